package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Damaged versions of a valid file for fuzzing readers: truncated, bit-flipped, with an absurd length
 * prefix, with a run of garbage pasted in, or entirely garbage.
 */
final class Mutations {

  private Mutations() {}

  static Arbitrary<byte[]> of(byte[] valid) {
    Arbitrary<byte[]> truncated = Arbitraries.integers().between(0, valid.length - 1).map(n -> Arrays.copyOf(valid, n));
    Arbitrary<byte[]> flipped =
        Arbitraries.integers()
            .between(0, valid.length * 8 - 1)
            .list()
            .ofMinSize(1)
            .ofMaxSize(8)
            .map(
                bits -> {
                  byte[] copy = valid.clone();
                  bits.forEach(bit -> copy[bit / 8] ^= (byte) (1 << (bit % 8)));
                  return copy;
                });
    Arbitrary<byte[]> oversizedLength =
        Arbitraries.longs()
            .map(
                length -> {
                  byte[] copy = valid.clone();
                  if (copy.length >= 8) {
                    ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
                  }
                  return copy;
                });
    Arbitrary<byte[]> spliced =
        Combinators.combine(
                Arbitraries.integers().between(0, valid.length - 1),
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(16))
            .as(
                (at, junk) -> {
                  byte[] copy = valid.clone();
                  System.arraycopy(junk, 0, copy, at, Math.min(junk.length, copy.length - at));
                  return copy;
                });
    Arbitrary<byte[]> garbage = Arbitraries.bytes().array(byte[].class).ofMaxSize(256);
    return Arbitraries.oneOf(truncated, flipped, oversizedLength, spliced, garbage);
  }

  /** What a reader under fuzzing does with a file; any result is fine, only the exception type matters. */
  interface Reader {
    void read(Path file) throws Exception;
  }

  /**
   * Writes {@code bytes} to {@code file} and runs the reader: it must succeed or throw a
   * {@link FileFormatException} naming that file. Anything else (another exception, an Error) fails.
   */
  static void assertReadsOrRejects(Path file, byte[] bytes, Reader reader) throws Exception {
    assertReadsOrRejects(file, java.util.Set.of(file), bytes, reader);
  }

  /**
   * Like {@link #assertReadsOrRejects(Path, byte[], Reader)} for files read together, where damage to
   * one can surface as a disagreement detected in another: the exception may name any of {@code named}.
   */
  static void assertReadsOrRejects(Path file, java.util.Set<Path> named, byte[] bytes, Reader reader) throws Exception {
    Files.write(file, bytes);
    try {
      reader.read(file);
    } catch (FileFormatException e) {
      org.junit.jupiter.api.Assertions.assertTrue(named.contains(e.file()), "exception names another file: " + e.getMessage());
    } catch (Throwable t) {
      fail("untyped failure on a damaged " + file.getFileName() + ": " + t, t);
    }
  }
}
