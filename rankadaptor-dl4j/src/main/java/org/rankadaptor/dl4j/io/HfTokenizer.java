package org.rankadaptor.dl4j.io;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (any model type the Rust {@code tokenizers} library reads: BPE,
 * WordPiece, WordLevel, Unigram), through DJL's binding. The library's own special-token insertion is
 * switched off: BOS and EOS are added only when {@link #encode} is asked to, matching the llama2.c
 * tokenizer's contract.
 *
 * <p>BOS and EOS are the tokens named by {@code bos_token}/{@code eos_token} in a {@code
 * tokenizer_config.json} beside the file, else {@code <s>} and {@code </s>} (LLaMA's). The vocabulary
 * size is one more than the largest id in the model's vocabulary or the added tokens. Holds a native
 * handle: {@link #close} it when done. Safe for concurrent use.
 *
 * @since 0.1.0
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

  /** Largest tokenizer.json accepted, in bytes. */
  public static final long MAX_FILE_BYTES = 256L << 20;

  private static final String OFFLINE_PROPERTY = "ai.djl.offline";

  /** The optional dependency that reads tokenizer.json. */
  static final String DJL_TOKENIZER = "ai.djl.huggingface.tokenizers.HuggingFaceTokenizer";
  static final String DJL_ARTIFACT = "ai.djl.huggingface:tokenizers:0.36.0";

  /**
   * Checks that an optional dependency is on the class path, before any of its classes is touched.
   *
   * @throws IllegalStateException naming the artifact to add when it is not
   */
  static void requireClass(String className, String artifact) {
    try {
      Class.forName(className, false, HfTokenizer.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalStateException("reading a tokenizer.json needs the optional dependency " + artifact
          + " beside rankadaptor-dl4j; llama2.c tokenizers need nothing more", e);
    }
  }

  private final HuggingFaceTokenizer tokenizer;
  private final Path file;
  private final int vocabSize;
  private final int bosId;
  private final int eosId;

  private HfTokenizer(HuggingFaceTokenizer tokenizer, Path file, int vocabSize, int bosId, int eosId) {
    this.tokenizer = tokenizer;
    this.file = file;
    this.vocabSize = vocabSize;
    this.bosId = bosId;
    this.eosId = eosId;
  }

  /**
   * Loads {@code tokenizer.json} (a file, or a model folder holding one), taking BOS and EOS from a
   * {@code tokenizer_config.json} in the same folder when present.
   *
   * @throws FileFormatException if a file is malformed or BOS/EOS are not in the vocabulary
   */
  public static HfTokenizer load(Path path) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
    String bos = "<s>";
    String eos = "</s>";
    Path parent = file.toAbsolutePath().getParent();
    Path config = parent == null ? null : parent.resolve("tokenizer_config.json");
    if (config != null && Files.isRegularFile(config)) {
      JsonNode root = JsonFiles.readTree(config, MAX_FILE_BYTES, FileFormatException::new);
      bos = specialToken(config, root, "bos_token", bos);
      eos = specialToken(config, root, "eos_token", eos);
    }
    return load(file, bos, eos);
  }

  /**
   * Loads a {@code tokenizer.json} with the given BOS and EOS token strings.
   *
   * @throws FileFormatException if the file is malformed or a token is not in the vocabulary
   */
  public static HfTokenizer load(Path tokenizerJson, String bosToken, String eosToken)
      throws IOException {
    requireClass(DJL_TOKENIZER, DJL_ARTIFACT);
    JsonNode root = JsonFiles.readTree(tokenizerJson, MAX_FILE_BYTES, FileFormatException::new);
    Vocabulary vocabulary = Vocabulary.of(tokenizerJson, root);
    int bos = vocabulary.idOf(tokenizerJson, bosToken, "bos_token");
    int eos = vocabulary.idOf(tokenizerJson, eosToken, "eos_token");
    if (System.getProperty(OFFLINE_PROPERTY) == null) {
      // DJL otherwise may try to download native libraries; the ones in its jar suffice.
      System.setProperty(OFFLINE_PROPERTY, "true");
    }
    HuggingFaceTokenizer tokenizer;
    try {
      tokenizer =
          HuggingFaceTokenizer.newInstance(
              tokenizerJson, Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
    } catch (RuntimeException e) {
      throw new FileFormatException(
          tokenizerJson, null, "the tokenizers library rejected the file: " + e.getMessage(), e);
    }
    return new HfTokenizer(tokenizer, tokenizerJson, vocabulary.size, bos, eos);
  }

  /** The tokenizer.json this was loaded from. */
  public Path file() {
    return file;
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int bosId() {
    return bosId;
  }

  @Override
  public int eosId() {
    return eosId;
  }

  @Override
  public int[] encode(String text, boolean addBos, boolean addEos) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int offset = addBos ? 1 : 0;
    int[] out = new int[ids.length + offset + (addEos ? 1 : 0)];
    if (addBos) {
      out[0] = bosId;
    }
    for (int i = 0; i < ids.length; i++) {
      out[offset + i] = Math.toIntExact(ids[i]);
    }
    if (addEos) {
      out[out.length - 1] = eosId;
    }
    return out;
  }

  @Override
  public String decode(int[] ids) {
    long[] kept = new long[ids.length];
    int count = 0;
    for (int id : ids) {
      if (id < 0 || id >= vocabSize) {
        throw new IllegalArgumentException("token id " + id + " outside [0, " + vocabSize + ")");
      }
      if (id != bosId && id != eosId) {
        kept[count++] = id;
      }
    }
    return tokenizer.decode(java.util.Arrays.copyOf(kept, count), true);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  private static String specialToken(Path file, JsonNode root, String field, String fallback)
      throws FileFormatException {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    // Either a plain string or an AddedToken object {"content": ..., ...}.
    JsonNode content = value.isObject() ? value.get("content") : value;
    if (content == null || !content.isTextual()) {
      throw new FileFormatException(file, field, "expected a string or an object with \"content\"");
    }
    return content.asText();
  }

  /** Token strings to ids from the model's vocabulary and the added tokens. */
  private record Vocabulary(Map<String, Integer> ids, int size) {

    static Vocabulary of(Path file, JsonNode root) throws FileFormatException {
      Map<String, Integer> ids = new java.util.HashMap<>();
      long maxId = -1;
      JsonNode model = root.get("model");
      if (model == null || !model.isObject()) {
        throw new FileFormatException(file, "model", "missing or not an object");
      }
      JsonNode vocab = model.get("vocab");
      if (vocab == null) {
        throw new FileFormatException(file, "model.vocab", "missing");
      }
      if (vocab.isObject()) {
        for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
          int id = tokenId(file, "model.vocab." + entry.getKey(), entry.getValue());
          ids.put(entry.getKey(), id);
          maxId = Math.max(maxId, id);
        }
      } else if (vocab.isArray()) {
        // Unigram: [[piece, score], ...] with the position as id.
        for (int i = 0; i < vocab.size(); i++) {
          JsonNode piece = vocab.get(i);
          if (!piece.isArray() || piece.isEmpty() || !piece.get(0).isTextual()) {
            throw new FileFormatException(file, "model.vocab[" + i + "]", "expected [piece, score]");
          }
          ids.putIfAbsent(piece.get(0).asText(), i);
          maxId = i;
        }
      } else {
        throw new FileFormatException(file, "model.vocab", "neither an object nor an array");
      }
      JsonNode added = root.get("added_tokens");
      if (added != null && !added.isNull()) {
        if (!added.isArray()) {
          throw new FileFormatException(file, "added_tokens", "is not an array");
        }
        for (int i = 0; i < added.size(); i++) {
          JsonNode token = added.get(i);
          JsonNode content = token.get("content");
          if (content == null || !content.isTextual()) {
            throw new FileFormatException(file, "added_tokens[" + i + "]", "content missing");
          }
          int id = tokenId(file, "added_tokens[" + i + "].id", token.get("id"));
          ids.put(content.asText(), id);
          maxId = Math.max(maxId, id);
        }
      }
      if (maxId < 0) {
        throw new FileFormatException(file, "model.vocab", "vocabulary is empty");
      }
      return new Vocabulary(ids, (int) maxId + 1);
    }

    private static int tokenId(Path file, String where, JsonNode value) throws FileFormatException {
      if (value == null || !value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0
          || value.intValue() == Integer.MAX_VALUE) {
        throw new FileFormatException(file, where, "token id must be a non-negative int, found " + value);
      }
      return value.intValue();
    }

    int idOf(Path file, String token, String role) throws FileFormatException {
      Integer id = ids.get(token);
      if (id == null) {
        throw new FileFormatException(file, role, "token \"" + token + "\" is not in the vocabulary");
      }
      return id;
    }
  }
}
