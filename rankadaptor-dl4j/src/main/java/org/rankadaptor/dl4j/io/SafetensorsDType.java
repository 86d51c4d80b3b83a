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
  BOOL(1),
  U8(1),
  I8(1),
  F8_E5M2(1),
  F8_E4M3(1),
  I16(2),
  U16(2),
  F16(2),
  BF16(2),
  I32(4),
  U32(4),
  F32(4),
  I64(8),
  U64(8),
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
