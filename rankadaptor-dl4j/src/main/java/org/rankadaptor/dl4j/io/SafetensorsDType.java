package org.rankadaptor.dl4j.io;

import java.util.Optional;

/**
 * Element types of the safetensors format with their sizes. Every type is accepted in a header (so that a
 * file's layout can be validated whatever it holds); conversion to floating point is offered for
 * {@link #F64}, {@link #F32}, {@link #F16} and {@link #BF16}.
 *
 * @since 0.1.0
 */
public enum SafetensorsDType {
  /** Boolean, one byte. */
  BOOL(1),
  /** Unsigned 8-bit integer. */
  U8(1),
  /** Signed 8-bit integer. */
  I8(1),
  /** 8-bit float, 5 exponent and 2 mantissa bits. */
  F8_E5M2(1),
  /** 8-bit float, 4 exponent and 3 mantissa bits. */
  F8_E4M3(1),
  /** Signed 16-bit integer. */
  I16(2),
  /** Unsigned 16-bit integer. */
  U16(2),
  /** IEEE half precision. */
  F16(2),
  /** bfloat16: float32 with a 7-bit mantissa. */
  BF16(2),
  /** Signed 32-bit integer. */
  I32(4),
  /** Unsigned 32-bit integer. */
  U32(4),
  /** IEEE single precision. */
  F32(4),
  /** Signed 64-bit integer. */
  I64(8),
  /** Unsigned 64-bit integer. */
  U64(8),
  /** IEEE double precision. */
  F64(8);

  private final int bytes;

  SafetensorsDType(int bytes) {
    this.bytes = bytes;
  }

  /** Size of one element in bytes. */
  public int bytes() {
    return bytes;
  }

  /** Whether {@link SafetensorsFile#readFloats} and {@code readDoubles} can convert this type. */
  public boolean isConvertibleToFloat() {
    return this == F64 || this == F32 || this == F16 || this == BF16;
  }

  /** The type spelled as in a header, such as {@code "BF16"}, if it is one. */
  public static Optional<SafetensorsDType> fromHeaderName(String name) {
    for (SafetensorsDType type : values()) {
      if (type.name().equals(name)) {
        return Optional.of(type);
      }
    }
    return Optional.empty();
  }
}
