package org.rankadaptor.dl4j.llama;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.FileFormatException;
import org.rankadaptor.dl4j.io.HfLlamaConfig;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.io.SafetensorsSource;
import org.rankadaptor.dl4j.io.SafetensorsTensorInfo;
import org.rankadaptor.dl4j.io.SafetensorsWriter;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and saves {@link LlamaModel}s as Hugging Face model folders, and converts llama2.c checkpoints
 * ({@link #fromLlama2c}). A Hugging Face folder holds {@code config.json} and the weights
 * in {@code model.safetensors} (or shards behind {@code model.safetensors.index.json} when loading), under
 * Hugging Face's names ({@code model.embed_tokens.weight}, {@code model.layers.{i}.self_attn.q_proj.weight},
 * ..., {@code model.norm.weight}, {@code lm_head.weight} unless tied).
 *
 * <p>Hugging Face stores query and key rows in the rotate-half RoPE order; the model uses interleaved
 * pairs. Loading converts with {@link RotaryLayout#fromRotateHalf} and saving with {@link
 * RotaryLayout#toRotateHalf}, so a folder written here is laid out as {@code transformers} expects and a
 * reload is exact. A structurally pruned model keeps its per-layer head counts and MLP widths in
 * config.json's {@value HfLlamaConfig#LAYER_SHAPES_FIELD}.
 *
 * @since 0.1.0
 */
public final class LlamaCheckpoints {

  /** Name of the configuration file in a model folder. */
  public static final String CONFIG_FILE_NAME = "config.json";

  /** Metadata key recording the query/key row order of the saved weights. */
  public static final String ROPE_LAYOUT_KEY = "rankadaptor.rope_layout";

  /**
   * Largest RoPE table (positions x headDim/2) a loaded config may ask for: the model precomputes it, so a
   * corrupt {@code max_position_embeddings} must not exhaust the heap. LLaMA-3.1 (131072 x 64) fits.
   */
  static final long MAX_ROPE_TABLE_ENTRIES = 1L << 24;

  private static final Logger LOG = LoggerFactory.getLogger(LlamaCheckpoints.class);

  /** Name of the token embedding tensor. */
  static final String EMBEDDING = "model.embed_tokens.weight";

  /** Name of the final norm tensor. */
  static final String FINAL_NORM = "model.norm.weight";

  /** Name of the untied classifier tensor. */
  static final String CLASSIFIER = "lm_head.weight";

  private LlamaCheckpoints() {}

  /** Hugging Face name of a projection's weight in layer {@code layer}. */
  static String projectionName(int layer, LoraTarget target) {
    return target.modulePath(layer) + ".weight";
  }

  static String attnNormName(int layer) {
    return "model.layers." + layer + ".input_layernorm.weight";
  }

  static String ffnNormName(int layer) {
    return "model.layers." + layer + ".post_attention_layernorm.weight";
  }

  // ================================================================== loading

  /**
   * Loads a model folder, converting F32, F16, BF16 or F64 weights to {@code dtype}.
   *
   * @param folder holds config.json and model.safetensors or model.safetensors.index.json
   * @param dtype the data type the model computes in (float32 in use, float64 for checks)
   * @throws FileFormatException naming the file and tensor or field when config.json is invalid, a tensor
   *     is missing, has the wrong shape or a non-float dtype
   */
  public static LlamaModel load(Path folder, DataType dtype) throws IOException {
    Nd4jRuntime.ensureInitialized();
    Path configFile = folder.resolve(CONFIG_FILE_NAME);
    if (!Files.isRegularFile(configFile)) {
      throw new FileFormatException(folder, CONFIG_FILE_NAME, Files.isDirectory(folder)
          ? "is missing: a Hugging Face model folder holds config.json beside model.safetensors (or shards with "
              + "model.safetensors.index.json)"
          : "the folder does not exist");
    }
    LlamaConfig config = toLlamaConfig(configFile, HfLlamaConfig.read(configFile));
    try (SafetensorsSource source = SafetensorsSource.open(folder)) {
      return load(config, source, dtype);
    }
  }

  /**
   * Reads a model of the given architecture from any safetensors source with Hugging Face names.
   *
   * @throws FileFormatException naming the source file and tensor when a tensor is missing or misshapen
   */
  public static LlamaModel load(LlamaConfig config, SafetensorsSource source, DataType dtype)
      throws IOException {
    Nd4jRuntime.ensureInitialized();
    Set<String> used = new HashSet<>();
    TensorReader reader = new TensorReader(source, dtype, used);
    int d = config.dim();
    List<LayerWeights> layers = new ArrayList<>(config.nLayers());
    for (int l = 0; l < config.nLayers(); l++) {
      LayerShape s = config.layer(l);
      INDArray[] projections = new INDArray[LoraTarget.values().length];
      for (LoraTarget t : LoraTarget.values()) {
        projections[t.ordinal()] =
            reader.read(projectionName(l, t), s.outFeatures(t, d), s.inFeatures(t, d));
      }
      layers.add(
          new LayerWeights(
              reader.read(attnNormName(l), d),
              RotaryLayout.fromRotateHalf(projections[LoraTarget.Q.ordinal()], s.nHeads(), s.headDim()),
              RotaryLayout.fromRotateHalf(projections[LoraTarget.K.ordinal()], s.nKvHeads(), s.headDim()),
              projections[LoraTarget.V.ordinal()],
              projections[LoraTarget.O.ordinal()],
              reader.read(ffnNormName(l), d),
              projections[LoraTarget.GATE.ordinal()],
              projections[LoraTarget.UP.ordinal()],
              projections[LoraTarget.DOWN.ordinal()]));
    }
    INDArray embedding = reader.read(EMBEDDING, config.vocabSize(), d);
    INDArray classifier;
    if (config.tiedClassifier()) {
      classifier = embedding;
      if (source.contains(CLASSIFIER)) {
        LOG.debug("{}: {} ignored, the classifier is tied to the embedding", source.file(), CLASSIFIER);
        used.add(CLASSIFIER);
      }
    } else {
      classifier = reader.read(CLASSIFIER, config.vocabSize(), d);
    }
    INDArray finalNorm = reader.read(FINAL_NORM, d);
    List<String> unused = source.tensorNames().stream().filter(n -> !used.contains(n)).toList();
    if (!unused.isEmpty()) {
      LOG.warn("{}: {} tensors not part of the model were ignored, e.g. {}", source.file(), unused.size(),
          unused.get(0));
    }
    return new LlamaModel(config, new LlamaWeights(embedding, layers, finalNorm, classifier));
  }

  /** Reads tensors by name, checking presence, dtype and shape before allocating. */
  private record TensorReader(SafetensorsSource source, DataType dtype, Set<String> used) {

    INDArray read(String name, long... shape) throws IOException {
      if (!source.contains(name)) {
        throw new FileFormatException(source.file(), name, "tensor is missing; expected shape "
            + Arrays.toString(shape));
      }
      SafetensorsTensorInfo info = source.info(name);
      if (!Arrays.equals(info.shape(), shape)) {
        throw new FileFormatException(source.file(), name, "has shape " + Arrays.toString(info.shape())
            + ", config.json implies " + Arrays.toString(shape));
      }
      if (!info.dtype().isConvertibleToFloat()) {
        throw new FileFormatException(source.file(), name, "has dtype " + info.dtype()
            + "; only F32, F16, BF16 and F64 weights are read");
      }
      used.add(name);
      // Checked once here so that a damaged checkpoint fails at load, not as every recovery's NaN loss.
      if (dtype == DataType.DOUBLE) {
        double[] values = source.readDoubles(name);
        for (int i = 0; i < values.length; i++) {
          requireFinite(name, values[i], i);
        }
        return Nd4j.create(values, shape, 'c');
      }
      float[] values = source.readFloats(name);
      for (int i = 0; i < values.length; i++) {
        requireFinite(name, values[i], i);
      }
      return Nd4j.create(values, shape, 'c').castTo(dtype);
    }

    private void requireFinite(String name, double value, int index) throws FileFormatException {
      if (!Double.isFinite(value)) {
        throw new FileFormatException(source.file(), name, "holds " + value + " at element " + index
            + "; weights must be finite");
      }
    }
  }

  /**
   * Converts a llama2.c checkpoint, whose query/key rows are already interleaved, to a model computing in
   * {@code dtype}.
   */
  public static LlamaModel fromLlama2c(Llama2cCheckpoint checkpoint, DataType dtype) {
    Nd4jRuntime.ensureInitialized();
    Llama2cCheckpoint.Header h = checkpoint.header();
    LlamaConfig config =
        LlamaConfig.uniform(
            h.dim(), h.nLayers(), h.nHeads(), h.nKvHeads(), h.hiddenDim(), h.vocabSize(), h.seqLen(),
            h.sharedClassifier());
    int d = h.dim();
    int kv = h.kvDim();
    int hid = h.hiddenDim();
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < h.nLayers(); l++) {
      layers.add(
          new LayerWeights(
              slice(checkpoint.rmsAtt(), l, dtype, d),
              slice(checkpoint.wq(), l, dtype, d, d),
              slice(checkpoint.wk(), l, dtype, kv, d),
              slice(checkpoint.wv(), l, dtype, kv, d),
              slice(checkpoint.wo(), l, dtype, d, d),
              slice(checkpoint.rmsFfn(), l, dtype, d),
              slice(checkpoint.w1(), l, dtype, hid, d),
              slice(checkpoint.w3(), l, dtype, hid, d),
              slice(checkpoint.w2(), l, dtype, d, hid)));
    }
    INDArray embedding = slice(checkpoint.tokenEmbedding(), 0, dtype, h.vocabSize(), d);
    INDArray classifier =
        h.sharedClassifier() ? embedding : slice(checkpoint.classifier(), 0, dtype, h.vocabSize(), d);
    return new LlamaModel(
        config,
        new LlamaWeights(embedding, layers, slice(checkpoint.rmsFinal(), 0, dtype, d), classifier));
  }

  /** The {@code index}-th block of {@code shape} in a stacked float array. */
  private static INDArray slice(float[] stacked, int index, DataType dtype, long... shape) {
    int size = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    float[] part = Arrays.copyOfRange(stacked, index * size, (index + 1) * size);
    return Nd4j.create(part, shape, 'c').castTo(dtype);
  }

  /**
   * The model architecture a Hugging Face config describes.
   *
   * @throws FileFormatException when the config asks for more RoPE positions than can be tabulated
   */
  static LlamaConfig toLlamaConfig(Path file, HfLlamaConfig hf) throws FileFormatException {
    if ((long) hf.maxPositionEmbeddings() * (hf.headDim() / 2) > MAX_ROPE_TABLE_ENTRIES) {
      throw new FileFormatException(file, "max_position_embeddings", hf.maxPositionEmbeddings()
          + " positions x head_dim " + hf.headDim() + " exceed the " + MAX_ROPE_TABLE_ENTRIES
          + "-entry RoPE table limit");
    }
    List<LayerShape> layers = new ArrayList<>(hf.numHiddenLayers());
    for (int l = 0; l < hf.numHiddenLayers(); l++) {
      HfLlamaConfig.LayerConfig s = hf.layerConfig(l);
      layers.add(new LayerShape(s.numAttentionHeads(), s.numKeyValueHeads(), hf.headDim(), s.intermediateSize()));
    }
    return new LlamaConfig(
        hf.hiddenSize(), hf.vocabSize(), hf.rmsNormEps(), hf.ropeTheta(), hf.tieWordEmbeddings(),
        hf.maxPositionEmbeddings(), layers);
  }

  // ================================================================== saving

  /**
   * Saves a model as a Hugging Face folder (created if needed) with float32 weights.
   *
   * @param provenance entries for the weights' {@code __metadata__}: what made the model (configuration,
   *     seeds, fingerprints of inputs)
   * @see #save(LlamaModel, Path, SafetensorsDType, Map)
   */
  public static void save(LlamaModel model, Path folder, Map<String, String> provenance) throws IOException {
    save(model, folder, SafetensorsDType.F32, provenance);
  }

  /**
   * Saves a model as a Hugging Face folder (created if needed): config.json, with per-layer shapes when
   * layers differ, and model.safetensors in Hugging Face naming and rotate-half layout, stored as {@code
   * storage} (F32, F16, BF16 or F64). The metadata holds {@code format: pt}, {@value #ROPE_LAYOUT_KEY} and
   * the given provenance. F32 (or F64 for a float64 model) reloads bit for bit.
   *
   * @throws IllegalArgumentException when layers differ in head width (config.json has one head_dim)
   */
  public static void save(
      LlamaModel model, Path folder, SafetensorsDType storage, Map<String, String> provenance)
      throws IOException {
    Nd4jRuntime.ensureInitialized();
    if (storage != SafetensorsDType.F32 && storage != SafetensorsDType.F16 && storage != SafetensorsDType.BF16
        && storage != SafetensorsDType.F64) {
      throw new IllegalArgumentException("weights are stored as F32, F16, BF16 or F64, not " + storage);
    }
    LlamaConfig config = model.config();
    HfLlamaConfig hf = toHfConfig(config);
    LlamaWeights w = model.weights();
    Map<String, String> metadata = new LinkedHashMap<>(provenance);
    metadata.put(ROPE_LAYOUT_KEY, "rotate_half");
    SafetensorsWriter writer =
        new SafetensorsWriter().metadata(metadata).metadata(SafetensorsWriter.PYTORCH_FORMAT);
    TensorWriter out = new TensorWriter(writer, storage);
    out.add(EMBEDDING, w.tokenEmbedding());
    if (!config.tiedClassifier()) {
      out.add(CLASSIFIER, w.classifier());
    }
    out.add(FINAL_NORM, w.finalNorm());
    for (int l = 0; l < config.nLayers(); l++) {
      LayerShape s = config.layer(l);
      LayerWeights layer = w.layers().get(l);
      out.add(attnNormName(l), layer.attnNorm());
      out.add(ffnNormName(l), layer.ffnNorm());
      for (LoraTarget t : LoraTarget.values()) {
        INDArray projection = switch (t) {
          case Q -> RotaryLayout.toRotateHalf(layer.wq(), s.nHeads(), s.headDim());
          case K -> RotaryLayout.toRotateHalf(layer.wk(), s.nKvHeads(), s.headDim());
          default -> layer.projection(t);
        };
        out.add(projectionName(l, t), projection);
      }
    }
    Files.createDirectories(folder);
    writer.write(folder.resolve(SafetensorsSource.SINGLE_FILE_NAME));
    hf.write(folder.resolve(CONFIG_FILE_NAME));
  }

  private record TensorWriter(SafetensorsWriter writer, SafetensorsDType storage) {
    void add(String name, INDArray array) {
      // toFlattened('c') reads the elements in row-major order whatever the array's own ordering
      INDArray flat = Nd4j.toFlattened('c', array);
      if (storage == SafetensorsDType.F64) {
        writer.addDoubles(name, flat.toDoubleVector(), array.shape());
      } else {
        writer.add(name, storage, flat.toFloatVector(), array.shape());
      }
    }
  }

  /**
   * The Hugging Face config of an architecture. The global head counts and MLP width are those of the
   * widest layer; when any layer differs from them, every layer's shape is listed.
   *
   * @throws IllegalArgumentException when layers differ in head width
   */
  static HfLlamaConfig toHfConfig(LlamaConfig config) {
    int headDim = config.layer(0).headDim();
    LayerShape widest = config.layer(0);
    int hidden = 0;
    for (int l = 0; l < config.nLayers(); l++) {
      LayerShape s = config.layer(l);
      if (s.headDim() != headDim) {
        throw new IllegalArgumentException("layer " + l + " has head width " + s.headDim() + ", layer 0 "
            + headDim + "; a Hugging Face config has a single head_dim");
      }
      if (s.nHeads() > widest.nHeads()) {
        widest = s;
      }
      hidden = Math.max(hidden, s.hiddenDim());
    }
    List<HfLlamaConfig.LayerConfig> shapes = new ArrayList<>();
    boolean uniform = true;
    for (LayerShape s : config.layers()) {
      uniform &= s.nHeads() == widest.nHeads() && s.nKvHeads() == widest.nKvHeads() && s.hiddenDim() == hidden;
      shapes.add(new HfLlamaConfig.LayerConfig(s.nHeads(), s.nKvHeads(), s.hiddenDim()));
    }
    return new HfLlamaConfig(
        config.dim(), hidden, config.nLayers(), widest.nHeads(), widest.nKvHeads(), config.vocabSize(),
        config.normEps(), config.ropeTheta(), config.maxSeqLen(), config.tiedClassifier(), headDim,
        uniform ? List.of() : shapes);
  }
}
