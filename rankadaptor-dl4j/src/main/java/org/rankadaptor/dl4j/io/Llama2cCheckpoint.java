package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The tensors of a llama2.c legacy ("version 0") checkpoint as plain row-major float arrays.
 *
 * <p>Layout: seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
 * seq_len; a negative vocab_size means the classifier is stored separately), then float32 tensors in the
 * order of the fields below. Shapes are given per field with {@code kvDim = dim * nKvHeads / nHeads} and
 * {@code headDim = dim / nHeads}. The header is validated and the exact file size checked before any
 * tensor is allocated.
 *
 * @param header the seven header fields
 * @param tokenEmbedding (vocab, dim)
 * @param rmsAtt (layer, dim)
 * @param wq (layer, dim, dim), rows are output channels
 * @param wk (layer, kvDim, dim)
 * @param wv (layer, kvDim, dim)
 * @param wo (layer, dim, dim)
 * @param rmsFfn (layer, dim)
 * @param w1 (layer, hiddenDim, dim), the gate projection
 * @param w2 (layer, dim, hiddenDim), the down projection
 * @param w3 (layer, hiddenDim, dim), the up projection
 * @param rmsFinal (dim)
 * @param freqCisReal (seqLen, headDim / 2), legacy RoPE table, kept for completeness
 * @param freqCisImag (seqLen, headDim / 2)
 * @param classifier (vocab, dim); the same array as {@code tokenEmbedding} when shared
 * @since 0.1.0
 */
public record Llama2cCheckpoint(
    Header header,
    float[] tokenEmbedding,
    float[] rmsAtt,
    float[] wq,
    float[] wk,
    float[] wv,
    float[] wo,
    float[] rmsFfn,
    float[] w1,
    float[] w2,
    float[] w3,
    float[] rmsFinal,
    float[] freqCisReal,
    float[] freqCisImag,
    float[] classifier) {

  /** Upper bounds that keep a nonsense header from asking for absurd allocations. */
  static final int MAX_DIM = 1 << 16;
  static final int MAX_HIDDEN_DIM = 1 << 18;
  static final int MAX_LAYERS = 1 << 10;
  static final int MAX_VOCAB = 1 << 22;
  static final int MAX_SEQ_LEN = 1 << 20;
  static final int HEADER_BYTES = 7 * Integer.BYTES;

  /**
   * The header of a llama2.c checkpoint.
   *
   * @param vocabSize always positive; {@code sharedClassifier} carries the sign of the stored field
   */
  public record Header(
      int dim,
      int hiddenDim,
      int nLayers,
      int nHeads,
      int nKvHeads,
      int vocabSize,
      boolean sharedClassifier,
      int seqLen) {

    /** Width of one attention head. */
    public int headDim() {
      return dim / nHeads;
    }

    /** Output width of the key and value projections. */
    public int kvDim() {
      return dim / nHeads * nKvHeads;
    }

    /** Number of float32 values the file must hold after the header. */
    public long floatCount() {
      long perLayer =
          2L * dim + 2L * dim * dim + 2L * kvDim() * dim + 3L * hiddenDim * dim;
      long total = (long) vocabSize * dim + nLayers * perLayer + dim + (long) seqLen * headDim();
      return sharedClassifier ? total : total + (long) vocabSize * dim;
    }
  }

  /**
   * Reads a checkpoint.
   *
   * @throws CheckpointFormatException when the header is out of range or the file size does not match it
   * @throws IOException when the file cannot be read
   */
  public static Llama2cCheckpoint read(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      LittleEndianReader in = new LittleEndianReader(channel, file);
      Header header = readHeader(in, file);
      long expected = HEADER_BYTES + header.floatCount() * Float.BYTES;
      long actual = channel.size();
      if (actual != expected) {
        throw new CheckpointFormatException(
            file,
            "file has "
                + actual
                + " bytes but its header "
                + header
                + " describes "
                + expected
                + (actual < expected ? " (truncated)" : " (trailing bytes)"));
      }
      int d = header.dim();
      int l = header.nLayers();
      int kv = header.kvDim();
      int h = header.hiddenDim();
      float[] embedding = floats(in, file, "token_embedding_table", (long) header.vocabSize() * d);
      float[] rmsAtt = floats(in, file, "rms_att_weight", (long) l * d);
      float[] wq = floats(in, file, "wq", (long) l * d * d);
      float[] wk = floats(in, file, "wk", (long) l * kv * d);
      float[] wv = floats(in, file, "wv", (long) l * kv * d);
      float[] wo = floats(in, file, "wo", (long) l * d * d);
      float[] rmsFfn = floats(in, file, "rms_ffn_weight", (long) l * d);
      float[] w1 = floats(in, file, "w1", (long) l * h * d);
      float[] w2 = floats(in, file, "w2", (long) l * d * h);
      float[] w3 = floats(in, file, "w3", (long) l * h * d);
      float[] rmsFinal = floats(in, file, "rms_final_weight", d);
      long half = (long) header.seqLen() * header.headDim() / 2;
      float[] freqReal = floats(in, file, "freq_cis_real", half);
      float[] freqImag = floats(in, file, "freq_cis_imag", half);
      float[] classifier =
          header.sharedClassifier()
              ? embedding
              : floats(in, file, "wcls", (long) header.vocabSize() * d);
      return new Llama2cCheckpoint(
          header, embedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, freqReal, freqImag,
          classifier);
    }
  }

  private static Header readHeader(LittleEndianReader in, Path file) throws IOException {
    int dim = in.readInt("header field dim");
    int hiddenDim = in.readInt("header field hidden_dim");
    int nLayers = in.readInt("header field n_layers");
    int nHeads = in.readInt("header field n_heads");
    int nKvHeads = in.readInt("header field n_kv_heads");
    int vocab = in.readInt("header field vocab_size");
    int seqLen = in.readInt("header field seq_len");
    check(file, "dim", "dim", dim, 1, MAX_DIM);
    check(file, "hidden_dim", "hidden_dim", hiddenDim, 1, MAX_HIDDEN_DIM);
    check(file, "n_layers", "n_layers", nLayers, 1, MAX_LAYERS);
    check(file, "n_heads", "n_heads", nHeads, 1, dim);
    check(file, "n_kv_heads", "n_kv_heads", nKvHeads, 1, nHeads);
    if (vocab == Integer.MIN_VALUE) {
      throw new CheckpointFormatException(file, "vocab_size", "header field vocab_size is " + vocab);
    }
    check(file, "vocab_size", "vocab_size (absolute value)", Math.abs(vocab), 1, MAX_VOCAB);
    check(file, "seq_len", "seq_len", seqLen, 1, MAX_SEQ_LEN);
    if (dim % nHeads != 0) {
      throw new CheckpointFormatException(
          file, "dim", "header field dim " + dim + " is not divisible by n_heads " + nHeads);
    }
    if (nHeads % nKvHeads != 0) {
      throw new CheckpointFormatException(
          file, "n_heads", "header field n_heads " + nHeads + " is not divisible by n_kv_heads " + nKvHeads);
    }
    if ((dim / nHeads) % 2 != 0) {
      throw new CheckpointFormatException(
          file, "n_heads", "head size dim/n_heads = " + dim / nHeads + " is odd; RoPE needs pairs");
    }
    return new Header(dim, hiddenDim, nLayers, nHeads, nKvHeads, Math.abs(vocab), vocab > 0, seqLen);
  }

  private static void check(Path file, String field, String what, int value, int min, int max)
      throws CheckpointFormatException {
    if (value < min || value > max) {
      throw new CheckpointFormatException(
          file, field, "header field " + what + " is " + value + ", expected " + min + ".." + max);
    }
  }

  private static float[] floats(LittleEndianReader in, Path file, String tensor, long count)
      throws IOException {
    if (count > Integer.MAX_VALUE - 8) {
      throw new CheckpointFormatException(
          file, tensor, "tensor " + tensor + " has " + count + " values, more than one Java array holds");
    }
    float[] values = in.readFloats((int) count, "tensor " + tensor);
    // Checked once here so that a damaged file fails at load, not as every recovery's NaN loss.
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new CheckpointFormatException(file, tensor, "tensor " + tensor + " holds " + values[i] + " at element " + i
            + "; weights must be finite");
      }
    }
    return values;
  }
}
