package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Sequential little-endian reads from a file channel that turn a short read into a
 * {@link CheckpointFormatException} naming the item being read, never an {@code EOFException}.
 */
final class LittleEndianReader {

  private static final int CHUNK_BYTES = 1 << 20;

  private final FileChannel channel;
  private final Path file;
  private final ByteBuffer small = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
  private ByteBuffer chunk;

  LittleEndianReader(FileChannel channel, Path file) {
    this.channel = channel;
    this.file = file;
  }

  long position() throws IOException {
    return channel.position();
  }

  int readInt(String what) throws IOException {
    small.clear().limit(4);
    fill(small, what);
    return small.flip().getInt();
  }

  float readFloat(String what) throws IOException {
    small.clear().limit(4);
    fill(small, what);
    return small.flip().getFloat();
  }

  byte[] readBytes(int count, String what) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(count);
    fill(buffer, what);
    return buffer.array();
  }

  /** Reads {@code count} floats; the caller has already bounded {@code count} against the file size. */
  float[] readFloats(int count, String what) throws IOException {
    float[] values = new float[count];
    if (chunk == null) {
      chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    }
    int done = 0;
    while (done < count) {
      int n = Math.min(count - done, CHUNK_BYTES / Float.BYTES);
      chunk.clear().limit(n * Float.BYTES);
      fill(chunk, what);
      chunk.flip().asFloatBuffer().get(values, done, n);
      done += n;
    }
    return values;
  }

  private void fill(ByteBuffer buffer, String what) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new CheckpointFormatException(
            file, "file ends inside " + what + " at byte " + channel.position());
      }
    }
  }
}
