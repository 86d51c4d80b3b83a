package org.rankadaptor.dl4j.io;

/**
 * Conversions between float and the two 16-bit float encodings of checkpoints, IEEE binary16 (F16) and
 * bfloat16 (BF16). Narrowing rounds to nearest, ties to even, like PyTorch's {@code .half()} and
 * {@code .bfloat16()}; NaN stays NaN (quiet) and overflow becomes infinity.
 */
final class HalfFloats {

  private HalfFloats() {}

  static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      // Truncation alone could clear every mantissa bit and turn NaN into infinity.
      return (short) ((bits >>> 16) | 0x0040);
    }
    int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  static float f16ToFloat(short half) {
    int h = half & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1F;
    int mantissa = h & 0x3FF;
    if (exponent == 0) {
      // Zero or subnormal: mantissa * 2^-24 is exact in float.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    if (exponent == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
    }
    return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  }

  static short floatToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7FFFFFFF;
    if (abs > 0x7F800000) {
      return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));
    }
    // 65520 is halfway between the largest half (65504, odd mantissa) and 2^16: ties go to infinity.
    if (abs >= 0x477FF000) {
      return (short) (sign | 0x7C00);
    }
    if (abs >= 0x38800000) {
      int exponent = (abs >>> 23) - 127 + 15;
      int mantissa = abs & 0x7FFFFF;
      int half = (exponent << 10) | (mantissa >>> 13);
      int rest = mantissa & 0x1FFF;
      if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
        half++; // a carry out of the mantissa correctly bumps the exponent
      }
      return (short) (sign | half);
    }
    // Subnormal half: scaling by 2^24 is exact, and rint rounds half to even.
    int units = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24f);
    return (short) (sign | units);
  }
}
