package org.rankadaptor.dl4j.io;

import org.rankadaptor.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fields of a Hugging Face LLaMA {@code config.json} ({@code LlamaForCausalLM}) that fix a model's
 * shapes and numerics, plus an optional per-layer extension for structurally pruned models,
 * {@value #LAYER_SHAPES_FIELD}: one {@link LayerConfig} per decoder layer. Without the extension every layer
 * has the global head counts and MLP width.
 *
 * <p>Reading applies the defaults of {@code transformers}' {@code LlamaConfig} to the optional fields
 * ({@code num_key_value_heads} = {@code num_attention_heads}, {@code head_dim} = {@code hidden_size /
 * num_attention_heads}, {@code rms_norm_eps} 1e-6, {@code rope_theta} 10000, {@code
 * max_position_embeddings} 2048, {@code tie_word_embeddings} false) and ignores unknown fields.
 *
 * @param hiddenSize model width (embedding dimension)
 * @param intermediateSize MLP width of an unpruned layer
 * @param numHiddenLayers number of decoder layers
 * @param numAttentionHeads query heads of an unpruned layer
 * @param numKeyValueHeads key/value heads of an unpruned layer (grouped-query attention when fewer)
 * @param vocabSize number of tokens
 * @param rmsNormEps epsilon of the RMS norms
 * @param ropeTheta base of the rotary position frequencies
 * @param maxPositionEmbeddings longest sequence the model was trained for
 * @param tieWordEmbeddings whether the output projection shares the token embedding
 * @param headDim width of one attention head
 * @param layerConfigs per-layer shapes of a pruned model, one per layer; empty when all layers are unpruned
 * @since 0.1.0
 */
public record HfLlamaConfig(
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int vocabSize,
    double rmsNormEps,
    double ropeTheta,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    int headDim,
    List<LayerConfig> layerConfigs) {

  /** The config.json field holding the per-layer shapes of a pruned model. */
  public static final String LAYER_SHAPES_FIELD = "rankadaptor_layer_shapes";

  /** Largest config.json accepted, in bytes. */
  public static final long MAX_FILE_BYTES = 4L << 20;

  private static final Logger LOG = LoggerFactory.getLogger(HfLlamaConfig.class);

  /**
   * One entry of {@value #LAYER_SHAPES_FIELD}: the head counts and MLP width of one decoder layer after
   * structured pruning, as config.json stores them (the model's own per-layer widths are {@code
   * llama.LayerShape}).
   *
   * @param numAttentionHeads query heads kept
   * @param numKeyValueHeads key/value heads kept; divides {@code numAttentionHeads}
   * @param intermediateSize MLP channels kept
   */
  public record LayerConfig(int numAttentionHeads, int numKeyValueHeads, int intermediateSize) {

    /** Checks that the counts are positive and that the kv heads divide the query heads. */
    public LayerConfig {
      if (numAttentionHeads <= 0 || numKeyValueHeads <= 0 || intermediateSize <= 0) {
        throw new IllegalArgumentException(
            "layer shape needs positive sizes, got heads "
                + numAttentionHeads
                + ", kv heads "
                + numKeyValueHeads
                + ", intermediate size "
                + intermediateSize);
      }
      if (numAttentionHeads % numKeyValueHeads != 0) {
        throw new IllegalArgumentException(
            "num_key_value_heads " + numKeyValueHeads + " does not divide num_attention_heads " + numAttentionHeads);
      }
    }
  }

  /** Validates sizes, head divisibility and the per-layer list's length. */
  public HfLlamaConfig {
    requirePositive("hidden_size", hiddenSize);
    requirePositive("intermediate_size", intermediateSize);
    requirePositive("num_hidden_layers", numHiddenLayers);
    requirePositive("num_attention_heads", numAttentionHeads);
    requirePositive("num_key_value_heads", numKeyValueHeads);
    requirePositive("vocab_size", vocabSize);
    requirePositive("max_position_embeddings", maxPositionEmbeddings);
    requirePositive("head_dim", headDim);
    if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
      throw new IllegalArgumentException("rms_norm_eps must be positive and finite, got " + rmsNormEps);
    }
    if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
      throw new IllegalArgumentException("rope_theta must be positive and finite, got " + ropeTheta);
    }
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException(
          "num_key_value_heads " + numKeyValueHeads + " does not divide num_attention_heads " + numAttentionHeads);
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim " + headDim + " must be even for rotary embeddings");
    }
    layerConfigs = List.copyOf(layerConfigs);
    if (!layerConfigs.isEmpty() && layerConfigs.size() != numHiddenLayers) {
      throw new IllegalArgumentException(
          LAYER_SHAPES_FIELD + " has " + layerConfigs.size() + " entries for " + numHiddenLayers + " layers");
    }
  }

  /**
   * An unpruned config with {@code head_dim = hidden_size / num_attention_heads} and the usual defaults
   * for the rest (eps 1e-5 as in LLaMA-2, theta 10000, untied embeddings).
   */
  public static HfLlamaConfig of(
      int hiddenSize,
      int intermediateSize,
      int numHiddenLayers,
      int numAttentionHeads,
      int numKeyValueHeads,
      int vocabSize,
      int maxPositionEmbeddings) {
    if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads " + numAttentionHeads + " does not divide hidden_size " + hiddenSize);
    }
    return new HfLlamaConfig(
        hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, vocabSize,
        1e-5, 10000.0, maxPositionEmbeddings, false, hiddenSize / numAttentionHeads, List.of());
  }

  /** This config with per-layer shapes (empty list: unpruned). */
  public HfLlamaConfig withLayerConfigs(List<LayerConfig> shapes) {
    return new HfLlamaConfig(
        hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, vocabSize,
        rmsNormEps, ropeTheta, maxPositionEmbeddings, tieWordEmbeddings, headDim, shapes);
  }

  /** Whether layers have individual shapes. */
  public boolean isPruned() {
    return !layerConfigs.isEmpty();
  }

  /** The shape of decoder layer {@code layer} (0-based): its own if pruned, else the global one. */
  public LayerConfig layerConfig(int layer) {
    Objects.checkIndex(layer, numHiddenLayers);
    return layerConfigs.isEmpty()
        ? new LayerConfig(numAttentionHeads, numKeyValueHeads, intermediateSize)
        : layerConfigs.get(layer);
  }

  /** Reads and validates a config.json. */
  public static HfLlamaConfig read(Path file) throws IOException {
    JsonNode root = JsonFiles.readTree(file, MAX_FILE_BYTES, FileFormatException::new);
    return fromJson(file, root);
  }

  /** Writes this config as a config.json that {@code transformers} loads as a LLaMA model. */
  public void write(Path file) throws IOException {
    AtomicFiles.writeString(file, toJson());
  }

  /** This config as pretty-printed config.json text. */
  public String toJson() {
    ObjectNode root = JsonFiles.MAPPER.createObjectNode();
    root.putArray("architectures").add("LlamaForCausalLM");
    root.put("model_type", "llama");
    root.put("hidden_act", "silu");
    root.put("hidden_size", hiddenSize);
    root.put("intermediate_size", intermediateSize);
    root.put("num_hidden_layers", numHiddenLayers);
    root.put("num_attention_heads", numAttentionHeads);
    root.put("num_key_value_heads", numKeyValueHeads);
    root.put("head_dim", headDim);
    root.put("vocab_size", vocabSize);
    root.put("rms_norm_eps", rmsNormEps);
    root.put("rope_theta", ropeTheta);
    root.put("max_position_embeddings", maxPositionEmbeddings);
    root.put("tie_word_embeddings", tieWordEmbeddings);
    root.put("torch_dtype", "float32");
    if (!layerConfigs.isEmpty()) {
      ArrayNode layers = root.putArray(LAYER_SHAPES_FIELD);
      for (LayerConfig shape : layerConfigs) {
        layers
            .addObject()
            .put("num_attention_heads", shape.numAttentionHeads())
            .put("num_key_value_heads", shape.numKeyValueHeads())
            .put("intermediate_size", shape.intermediateSize());
      }
    }
    try {
      return JsonFiles.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("in-memory JSON generation failed", e);
    }
  }

  /** The largest rms_norm_eps and the range of rope_theta accepted: far outside any model ever published. */
  static final double MAX_RMS_NORM_EPS = 1e-2;

  static final double MIN_ROPE_THETA = 1.0;

  static final double MAX_ROPE_THETA = 1e9;

  /**
   * Refuses what the model does not compute as the config says (another activation, biases) and values no
   * trained model has, naming the field: loading them would give wrong logits without a word.
   */
  private static void refuseUnimplemented(Path file, JsonNode root) throws FileFormatException {
    for (String act : new String[] {"hidden_act", "hidden_activation"}) {
      JsonNode value = root.get(act);
      if (value != null && !value.isNull() && !"silu".equals(value.asText()) && !"swish".equals(value.asText())) {
        throw new FileFormatException(file, act, "is " + value + "; only SiLU (the LLaMA MLP) is implemented");
      }
    }
    for (String bias : new String[] {"attention_bias", "mlp_bias"}) {
      JsonNode value = root.get(bias);
      if (value != null && !value.isNull() && (!value.isBoolean() || value.booleanValue())) {
        throw new FileFormatException(file, bias, "is " + value + "; projections with biases are not implemented");
      }
    }
    JsonNode eps = root.get("rms_norm_eps");
    if (eps != null && eps.isNumber() && !(eps.doubleValue() > 0 && eps.doubleValue() <= MAX_RMS_NORM_EPS)) {
      throw new FileFormatException(file, "rms_norm_eps", "is " + eps + ", outside (0, " + MAX_RMS_NORM_EPS + "]");
    }
    JsonNode theta = root.get("rope_theta");
    if (theta != null && theta.isNumber()
        && !(theta.doubleValue() >= MIN_ROPE_THETA && theta.doubleValue() <= MAX_ROPE_THETA)) {
      throw new FileFormatException(file, "rope_theta", "is " + theta + ", outside [" + MIN_ROPE_THETA + ", "
          + MAX_ROPE_THETA + "]");
    }
  }

  private static HfLlamaConfig fromJson(Path file, JsonNode root) throws FileFormatException {
    JsonNode modelType = root.get("model_type");
    if (modelType != null && !"llama".equals(modelType.asText())) {
      throw new FileFormatException(
          file, "model_type", "expected \"llama\", found " + modelType + " (only LLaMA configs are read)");
    }
    if (root.hasNonNull("rope_scaling")) {
      LOG.warn("{}: rope_scaling is set but not supported; positions use plain rope_theta", file);
    }
    refuseUnimplemented(file, root);
    int hidden = requiredInt(file, root, "hidden_size");
    int heads = requiredInt(file, root, "num_attention_heads");
    int headDim;
    if (root.hasNonNull("head_dim")) {
      headDim = requiredInt(file, root, "head_dim");
    } else {
      if (heads <= 0 || hidden % heads != 0) {
        throw new FileFormatException(
            file, "num_attention_heads", heads + " does not divide hidden_size " + hidden + " and head_dim is absent");
      }
      headDim = hidden / heads;
    }
    List<LayerConfig> shapes = new ArrayList<>();
    JsonNode layers = root.get(LAYER_SHAPES_FIELD);
    if (layers != null && !layers.isNull()) {
      if (!layers.isArray()) {
        throw new FileFormatException(file, LAYER_SHAPES_FIELD, "is not an array");
      }
      for (int i = 0; i < layers.size(); i++) {
        JsonNode layer = layers.get(i);
        String where = LAYER_SHAPES_FIELD + "[" + i + "]";
        if (!layer.isObject()) {
          throw new FileFormatException(file, where, "is not an object");
        }
        try {
          shapes.add(
              new LayerConfig(
                  requiredInt(file, layer, "num_attention_heads", where),
                  requiredInt(file, layer, "num_key_value_heads", where),
                  requiredInt(file, layer, "intermediate_size", where)));
        } catch (IllegalArgumentException e) {
          throw new FileFormatException(file, where, e.getMessage(), e);
        }
      }
    }
    try {
      return new HfLlamaConfig(
          hidden,
          requiredInt(file, root, "intermediate_size"),
          requiredInt(file, root, "num_hidden_layers"),
          heads,
          root.hasNonNull("num_key_value_heads") ? requiredInt(file, root, "num_key_value_heads") : heads,
          requiredInt(file, root, "vocab_size"),
          optionalDouble(file, root, "rms_norm_eps", 1e-6),
          optionalDouble(file, root, "rope_theta", 10000.0),
          root.hasNonNull("max_position_embeddings") ? requiredInt(file, root, "max_position_embeddings") : 2048,
          optionalBoolean(file, root, "tie_word_embeddings", false),
          headDim,
          shapes);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(file, null, e.getMessage(), e);
    }
  }

  private static int requiredInt(Path file, JsonNode node, String field) throws FileFormatException {
    return requiredInt(file, node, field, null);
  }

  private static int requiredInt(Path file, JsonNode node, String field, String parent)
      throws FileFormatException {
    String where = parent == null ? field : parent + "." + field;
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new FileFormatException(file, where, "required field is missing");
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw new FileFormatException(file, where, "expected an integer, found " + value);
    }
    return value.intValue();
  }

  private static double optionalDouble(Path file, JsonNode node, String field, double fallback)
      throws FileFormatException {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isNumber()) {
      throw new FileFormatException(file, field, "expected a number, found " + value);
    }
    return value.doubleValue();
  }

  private static boolean optionalBoolean(Path file, JsonNode node, String field, boolean fallback)
      throws FileFormatException {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isBoolean()) {
      throw new FileFormatException(file, field, "expected true or false, found " + value);
    }
    return value.booleanValue();
  }

  private static void requirePositive(String field, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + " must be positive, got " + value);
    }
  }
}
