package org.rankadaptor.dl4j.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.rankadaptor.dl4j.io.Tokenizer;

/**
 * A tokenizer for tests: one token per UTF-8 byte (id = 3 + byte), with 0 unknown, 1 BOS and 2 EOS, so
 * that token counts are character counts for ASCII text and tests can compute them by hand.
 */
public final class ByteTokenizer implements Tokenizer {

  public static final int BOS = 1;
  public static final int EOS = 2;

  @Override
  public int vocabSize() {
    return 259;
  }

  @Override
  public int bosId() {
    return BOS;
  }

  @Override
  public int eosId() {
    return EOS;
  }

  @Override
  public int[] encode(String text, boolean addBos, boolean addEos) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[bytes.length + (addBos ? 1 : 0) + (addEos ? 1 : 0)];
    int k = 0;
    if (addBos) {
      ids[k++] = BOS;
    }
    for (byte b : bytes) {
      ids[k++] = 3 + (b & 0xff);
    }
    if (addEos) {
      ids[k] = EOS;
    }
    return ids;
  }

  @Override
  public String decode(int[] ids) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int id : ids) {
      if (id >= 3) {
        out.write(id - 3);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
