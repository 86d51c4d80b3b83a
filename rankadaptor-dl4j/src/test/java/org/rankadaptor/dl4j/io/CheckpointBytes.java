package org.rankadaptor.dl4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builders of small well-formed llama2.c files for tests. */
final class CheckpointBytes {

  private CheckpointBytes() {}

  static byte[] header(int... fields) {
    ByteBuffer b = ByteBuffer.allocate(fields.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int f : fields) {
      b.putInt(f);
    }
    return b.array();
  }

  /** A valid checkpoint: dim 4, hidden 6, 2 layers, 2 heads, 1 kv head, vocab 5 (unshared), seq 3. */
  static byte[] tinyCheckpoint() {
    Llama2cCheckpoint.Header h = new Llama2cCheckpoint.Header(4, 6, 2, 2, 1, 5, false, 3);
    int floats = (int) h.floatCount();
    ByteBuffer b = ByteBuffer.allocate(28 + floats * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.put(header(4, 6, 2, 2, 1, -5, 3));
    for (int i = 0; i < floats; i++) {
      b.putFloat(0.01f * i);
    }
    return b.array();
  }

  /** A valid tokenizer file with the given pieces, score = -index. */
  static byte[] tokenizer(String... pieces) {
    int size = 4;
    for (String p : pieces) {
      size += 8 + p.getBytes(StandardCharsets.UTF_8).length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    int max = 1;
    for (String p : pieces) {
      max = Math.max(max, p.getBytes(StandardCharsets.UTF_8).length);
    }
    b.putInt(max);
    for (int i = 0; i < pieces.length; i++) {
      byte[] bytes = pieces[i].getBytes(StandardCharsets.UTF_8);
      b.putFloat(-i);
      b.putInt(bytes.length);
      b.put(bytes);
    }
    return b.array();
  }
}
