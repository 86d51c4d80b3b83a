package org.rankadaptor.dl4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name the tensor's name
 * @param dtype its element type
 * @param shape its dimensions, row-major, outermost first; empty for a scalar (defensively copied)
 * @param begin first byte of its data, relative to the start of the data section
 * @param end one past its last byte, relative to the start of the data section
 * @since 0.1.0
 */
public record SafetensorsTensorInfo(
    String name, SafetensorsDType dtype, long[] shape, long begin, long end) {

  /** Validates the entry's own consistency; the checks against the file are the reader's. */
  public SafetensorsTensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    for (long dimension : shape) {
      if (dimension < 0) {
        throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
      }
    }
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(name + ": bad data offsets [" + begin + ", " + end + "]");
    }
  }

  /** The dimensions (a copy). */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The dimensions as ints, for array and ND4J APIs; fails if one exceeds the int range. */
  public int[] intShape() {
    int[] result = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      result[i] = Math.toIntExact(shape[i]);
    }
    return result;
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Product of the dimensions (1 for a scalar). */
  public long elementCount() {
    long count = 1;
    for (long dimension : shape) {
      count = Math.multiplyExact(count, dimension);
    }
    return count;
  }

  /** Size of the data in bytes. */
  public long byteLength() {
    return end - begin;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SafetensorsTensorInfo that
        && name.equals(that.name)
        && dtype == that.dtype
        && Arrays.equals(shape, that.shape)
        && begin == that.begin
        && end == that.end;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
  }
}
