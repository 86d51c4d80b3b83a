package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

  @Test
  void everyNonNanHalfSurvivesTheRoundTripThroughFloat() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short half = (short) bits;
      float value = HalfFloats.f16ToFloat(half);
      if (Float.isNaN(value)) {
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(value))));
      } else {
        assertEquals(bits, HalfFloats.floatToF16(value) & 0xFFFF, "half " + Integer.toHexString(bits));
      }
    }
  }

  @Test
  void everyNonNanBfloatSurvivesTheRoundTripThroughFloat() {
    for (int bits = 0; bits < 0x10000; bits++) {
      float value = HalfFloats.bf16ToFloat((short) bits);
      if (Float.isNaN(value)) {
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(value))));
      } else {
        assertEquals(bits, HalfFloats.floatToBf16(value) & 0xFFFF, "bf16 " + Integer.toHexString(bits));
      }
    }
  }

  @Test
  void knownEncodingsAndTies() {
    assertEquals(0x3C00, HalfFloats.floatToF16(1.0f) & 0xFFFF);
    assertEquals(0xC000, HalfFloats.floatToF16(-2.0f) & 0xFFFF);
    assertEquals(0x7BFF, HalfFloats.floatToF16(65504f) & 0xFFFF);
    assertEquals(0x7BFF, HalfFloats.floatToF16(65519.99f) & 0xFFFF);
    assertEquals(0x7C00, HalfFloats.floatToF16(65520f) & 0xFFFF, "tie above the largest half goes to infinity");
    assertEquals(0x0001, HalfFloats.floatToF16(0x1p-24f) & 0xFFFF, "smallest subnormal");
    assertEquals(0x0000, HalfFloats.floatToF16(0x1p-25f) & 0xFFFF, "tie between 0 and 2^-24 goes to even 0");
    assertEquals(0x0002, HalfFloats.floatToF16(0x3p-25f) & 0xFFFF, "tie between 1 and 2 units goes to even 2");
    assertEquals(0x0400, HalfFloats.floatToF16(0x1p-14f) & 0xFFFF, "smallest normal");
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even mantissa (1.0) wins; 1 + 3*2^-11 rounds up.
    assertEquals(0x3C00, HalfFloats.floatToF16(1f + 0x1p-11f) & 0xFFFF);
    assertEquals(0x3C02, HalfFloats.floatToF16(1f + 0x3p-11f) & 0xFFFF);
    assertEquals(0x3F80, HalfFloats.floatToBf16(1.0f) & 0xFFFF);
    assertEquals(0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000)) & 0xFFFF, "tie to even");
    assertEquals(0x3F82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000)) & 0xFFFF, "tie to even");
    assertEquals(0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE) & 0xFFFF, "overflow rounds to infinity");
    assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F800001)))));
    assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.intBitsToFloat(0x7F800001)))));
  }

  @Property(tries = 2000)
  void f16RoundsToTheNearestHalfWithTiesToEven(@ForAll float value) {
    if (Float.isNaN(value) || Math.abs(value) >= 65520f) {
      return;
    }
    int half = HalfFloats.floatToF16(value) & 0xFFFF;
    assertNearestWithTiesToEven(value, half, HalfFloats::f16ToFloat, 0x7C00);
  }

  @Property(tries = 2000)
  void bf16RoundsToTheNearestBfloatWithTiesToEven(@ForAll float value) {
    if (Float.isNaN(value) || Float.isInfinite(value) || Math.abs(value) > 0x1.fep127f) {
      return;
    }
    int bits = HalfFloats.floatToBf16(value) & 0xFFFF;
    assertNearestWithTiesToEven(value, bits, HalfFloats::bf16ToFloat, 0x7F80);
  }

  private interface Widen {
    float apply(short bits);
  }

  /** Compares the chosen encoding with its two neighbours in magnitude, in exact double arithmetic. */
  private static void assertNearestWithTiesToEven(float value, int chosen, Widen widen, int infinity) {
    int sign = chosen & 0x8000;
    int magnitude = chosen & 0x7FFF;
    assertTrue(magnitude < infinity, "finite input " + value + " became infinite");
    double error = Math.abs((double) widen.apply((short) chosen) - value);
    for (int neighbour : new int[] {magnitude - 1, magnitude + 1}) {
      if (neighbour < 0 || neighbour >= infinity) {
        continue;
      }
      double other = Math.abs((double) widen.apply((short) (sign | neighbour)) - value);
      // Zero has two signs; the neighbour of +0 below is -0's territory, nothing to compare.
      assertTrue(error <= other, value + ": " + Integer.toHexString(chosen) + " is not the nearest");
      if (error == other) {
        assertEquals(0, magnitude & 1, value + ": tie not resolved to even");
      }
    }
  }
}
