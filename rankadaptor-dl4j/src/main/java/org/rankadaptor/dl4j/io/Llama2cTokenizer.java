package org.rankadaptor.dl4j.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer file of llama2.c ({@code tokenizer.bin}, {@code tok512.bin}): int32 max_token_length,
 * then per token a float32 merge score, an int32 byte length and the token's bytes.
 *
 * <p>Encoding follows llama2.c's {@code run.c}: a dummy-prefix token {@code " "} when the text is not
 * empty, one token per UTF-8 code point (or its bytes as {@code <0xXX>} tokens, id {@code byte + 3}, when
 * the code point is not in the vocabulary), then repeated merging of the adjacent pair whose concatenation
 * is a token with the highest score. Token ids are 0-based in file order; BOS is 1 and EOS is 2.
 *
 * @since 0.1.0
 */
public final class Llama2cTokenizer implements Tokenizer {

  /** Bounds that keep a corrupted file from asking for absurd allocations. */
  static final int MAX_TOKEN_LENGTH = 1 << 16;

  static final int MAX_VOCAB = 1 << 22;
  private static final int BOS = 1;
  private static final int EOS = 2;
  private static final int BYTE_FALLBACK_OFFSET = 3;

  private final byte[][] pieces;
  private final float[] scores;
  // Token bytes as ISO-8859-1 strings: one char per byte, so lookups are exact on raw bytes.
  private final Map<String, Integer> idsByBytes;

  private Llama2cTokenizer(byte[][] pieces, float[] scores) {
    this.pieces = pieces;
    this.scores = scores;
    this.idsByBytes = new HashMap<>(pieces.length * 2);
    for (int i = 0; i < pieces.length; i++) {
      // The first of duplicate pieces wins, so encoding is deterministic.
      idsByBytes.putIfAbsent(new String(pieces[i], StandardCharsets.ISO_8859_1), i);
    }
  }

  /**
   * Reads a tokenizer file holding exactly {@code vocabSize} tokens (llama2.c takes the count from the
   * model checkpoint).
   *
   * @throws CheckpointFormatException on truncation, a length out of range or trailing bytes
   */
  public static Llama2cTokenizer read(Path file, int vocabSize) throws IOException {
    if (vocabSize < 1 || vocabSize > MAX_VOCAB) {
      throw new IllegalArgumentException("vocabSize " + vocabSize + " outside 1.." + MAX_VOCAB);
    }
    return read(file, vocabSize, false);
  }

  /** Reads a tokenizer file, taking every token up to the end of the file. */
  public static Llama2cTokenizer read(Path file) throws IOException {
    return read(file, MAX_VOCAB, true);
  }

  private static Llama2cTokenizer read(Path file, int vocabSize, boolean untilEnd) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      LittleEndianReader in = new LittleEndianReader(channel, file);
      long size = channel.size();
      int maxTokenLength = in.readInt("header field max_token_length");
      if (maxTokenLength < 1 || maxTokenLength > MAX_TOKEN_LENGTH) {
        throw new CheckpointFormatException(
            file,
            "max_token_length",
            "header field max_token_length is " + maxTokenLength + ", expected 1.." + MAX_TOKEN_LENGTH);
      }
      List<byte[]> pieces = new ArrayList<>();
      List<Float> scores = new ArrayList<>();
      while (pieces.size() < vocabSize && !(untilEnd && in.position() == size)) {
        int id = pieces.size();
        float score = in.readFloat("score of token " + id);
        if (Float.isNaN(score)) {
          throw new CheckpointFormatException(file, "token " + id, "score of token " + id + " is NaN");
        }
        int length = in.readInt("length of token " + id);
        if (length < 0 || length > maxTokenLength) {
          throw new CheckpointFormatException(
              file,
              "token " + id,
              "length of token " + id + " is " + length + ", expected 0.." + maxTokenLength
                  + " (max_token_length)");
        }
        if (length > size - in.position()) {
          throw new CheckpointFormatException(
              file, "token " + id, "token " + id + " claims " + length + " bytes, past the end of the file");
        }
        pieces.add(in.readBytes(length, "bytes of token " + id));
        scores.add(score);
      }
      if (in.position() != size) {
        throw new CheckpointFormatException(
            file, (size - in.position()) + " trailing bytes after " + pieces.size() + " tokens");
      }
      if (pieces.size() <= EOS + 1) {
        throw new CheckpointFormatException(
            file, "holds " + pieces.size() + " tokens; needs at least <unk>, BOS and EOS");
      }
      float[] scoreArray = new float[scores.size()];
      for (int i = 0; i < scoreArray.length; i++) {
        scoreArray[i] = scores.get(i);
      }
      return new Llama2cTokenizer(pieces.toArray(new byte[0][]), scoreArray);
    }
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public int bosId() {
    return BOS;
  }

  @Override
  public int eosId() {
    return EOS;
  }

  /** The raw bytes of a token. */
  public byte[] pieceBytes(int id) {
    checkId(id);
    return pieces[id].clone();
  }

  /** The merge score of a token. */
  public float score(int id) {
    checkId(id);
    return scores[id];
  }

  @Override
  public int[] encode(String text, boolean addBos, boolean addEos) {
    List<Integer> tokens = new ArrayList<>(text.length() + 3);
    if (!text.isEmpty()) {
      Integer space = idsByBytes.get(" ");
      if (space != null) {
        tokens.add(space);
      }
    }
    text.codePoints()
        .forEach(
            cp -> {
              byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
              Integer id = idsByBytes.get(new String(utf8, StandardCharsets.ISO_8859_1));
              if (id != null) {
                tokens.add(id);
              } else {
                for (byte b : utf8) {
                  tokens.add((b & 0xff) + BYTE_FALLBACK_OFFSET);
                }
              }
            });
    mergePairs(tokens);
    int extra = (addBos ? 1 : 0) + (addEos ? 1 : 0);
    int[] ids = new int[tokens.size() + extra];
    int n = 0;
    if (addBos) {
      ids[n++] = BOS;
    }
    for (int id : tokens) {
      ids[n++] = id;
    }
    if (addEos) {
      ids[n] = EOS;
    }
    return ids;
  }

  /**
   * Merges, as run.c does, the leftmost adjacent pair with the highest-scoring merged token until none
   * merges. Each pair's merge result is kept in {@code pairIds} and only the neighbours of a merge are
   * looked up again, so a scan costs no string building.
   */
  private void mergePairs(List<Integer> tokens) {
    int n = tokens.size();
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = tokens.get(i);
    }
    int[] pairIds = new int[Math.max(0, n - 1)];
    for (int i = 0; i + 1 < n; i++) {
      pairIds[i] = mergedId(ids[i], ids[i + 1]);
    }
    while (n > 1) {
      float bestScore = Float.NEGATIVE_INFINITY;
      int bestIndex = -1;
      for (int i = 0; i + 1 < n; i++) {
        if (pairIds[i] >= 0 && scores[pairIds[i]] > bestScore) {
          bestScore = scores[pairIds[i]];
          bestIndex = i;
        }
      }
      if (bestIndex < 0) {
        break;
      }
      ids[bestIndex] = pairIds[bestIndex];
      System.arraycopy(ids, bestIndex + 2, ids, bestIndex + 1, n - bestIndex - 2);
      System.arraycopy(pairIds, bestIndex + 1, pairIds, bestIndex, n - bestIndex - 2);
      n--;
      if (bestIndex > 0) {
        pairIds[bestIndex - 1] = mergedId(ids[bestIndex - 1], ids[bestIndex]);
      }
      if (bestIndex + 1 < n) {
        pairIds[bestIndex] = mergedId(ids[bestIndex], ids[bestIndex + 1]);
      }
    }
    tokens.clear();
    for (int i = 0; i < n; i++) {
      tokens.add(ids[i]);
    }
  }

  private int mergedId(int left, int right) {
    String merged =
        new String(pieces[left], StandardCharsets.ISO_8859_1)
            + new String(pieces[right], StandardCharsets.ISO_8859_1);
    Integer id = idsByBytes.get(merged);
    return id == null ? -1 : id;
  }

  /**
   * Decodes ids as llama2.c prints them: BOS and EOS are dropped, the leading space of the first piece
   * (the dummy prefix) is removed, {@code <0xXX>} tokens become raw bytes, and the bytes are read as UTF-8.
   */
  @Override
  public String decode(int[] ids) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean first = true;
    for (int id : ids) {
      checkId(id);
      if (id == BOS || id == EOS) {
        first = true;
        continue;
      }
      byte[] piece = pieces[id];
      int rawByte = byteFallback(piece);
      if (rawByte >= 0) {
        out.write(rawByte);
      } else {
        int start = first && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
        out.write(piece, start, piece.length - start);
      }
      first = false;
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The byte a {@code <0xXX>} piece stands for, or -1 when the piece is not of that form. */
  private static int byteFallback(byte[] piece) {
    if (piece.length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') {
      return -1;
    }
    int hi = Character.digit(piece[3], 16);
    int lo = Character.digit(piece[4], 16);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }

  private void checkId(int id) {
    if (id < 0 || id >= pieces.length) {
      throw new IllegalArgumentException("token id " + id + " outside 0.." + (pieces.length - 1));
    }
  }
}
