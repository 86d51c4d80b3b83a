package org.rankadaptor.dl4j.llama;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.Nd4jRuntime;
import org.rankadaptor.dl4j.io.FileFormatException;
import org.rankadaptor.dl4j.io.LoraModuleWeights;
import org.rankadaptor.dl4j.io.PeftLoraAdapter;
import org.rankadaptor.dl4j.io.SafetensorsDType;

/**
 * Converts {@link LoraAdapters} to and from PEFT's LoRA adapter format ({@link PeftLoraAdapter}), with
 * per-layer ranks and alphas and any of the seven targets.
 *
 * <p>PEFT adapts a Hugging Face model, whose query and key rows are in the rotate-half RoPE order (see
 * {@link LlamaCheckpoints}). {@code B}'s rows index the projection's output rows, so export permutes the
 * rows of {@code B} for q and k exactly as the base weights' rows are permuted on save, and import undoes
 * it; {@code A} (indexed by input features) and every other projection are unchanged. An adapter exported
 * here therefore applies to the model saved by {@link LlamaCheckpoints#save} as it applied in memory.
 */
public final class PeftAdapters {

  private PeftAdapters() {}

  /**
   * The PEFT form of adapters on a model of architecture {@code config}: one module per adapted
   * projection, alpha = scaling x rank. Layers without adapters (rank 0) have no modules.
   *
   * @param baseModelNameOrPath recorded as the adapter's base model
   * @throws IllegalArgumentException when an adapter's shape disagrees with {@code config}, or there is
   *     no adapter at all (PEFT has no empty adapter)
   */
  public static PeftLoraAdapter toPeft(LoraAdapters adapters, LlamaConfig config, String baseModelNameOrPath) {
    Nd4jRuntime.ensureInitialized();
    checkLayerCount(adapters, config);
    List<LoraModuleWeights> modules = new ArrayList<>();
    for (int l = 0; l < config.nLayers(); l++) {
      LayerShape s = config.layer(l);
      for (Map.Entry<LoraTarget, LoraAdapter> entry : adapters.layer(l).entrySet()) {
        LoraTarget target = entry.getKey();
        LoraAdapter adapter = entry.getValue();
        int in = target.inFeatures(config.dim(), s);
        int out = target.outFeatures(config.dim(), s);
        if (adapter.a().size(1) != in || adapter.b().size(0) != out) {
          throw new IllegalArgumentException("layer " + l + " " + target.moduleName() + ": adapter A "
              + java.util.Arrays.toString(adapter.a().shape()) + ", B " + java.util.Arrays.toString(adapter.b().shape())
              + " do not fit a (" + out + ", " + in + ") projection");
        }
        INDArray b = switch (target) {
          case Q -> RotaryLayout.toRotateHalf(adapter.b(), s.nHeads(), s.headDim());
          case K -> RotaryLayout.toRotateHalf(adapter.b(), s.nKvHeads(), s.headDim());
          default -> adapter.b();
        };
        modules.add(new LoraModuleWeights(
            l, ioTarget(target), adapter.rank(), alpha(adapter), in, out,
            rowMajorFloats(adapter.a()), rowMajorFloats(b)));
      }
    }
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("no layer has an adapter (every rank is 0); nothing to export");
    }
    return PeftLoraAdapter.of(baseModelNameOrPath, adapters.dropout(), modules);
  }

  /**
   * Adapters for a model of architecture {@code config} from their PEFT form, in {@code dtype}; scaling is
   * alpha / rank and the dropout is the adapter's {@code lora_dropout}.
   *
   * @throws IllegalArgumentException naming the module when it lies beyond the model's layers or its
   *     widths disagree with the model's projection
   */
  public static LoraAdapters fromPeft(PeftLoraAdapter peft, LlamaConfig config, DataType dtype) {
    Nd4jRuntime.ensureInitialized();
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>(config.nLayers());
    for (int l = 0; l < config.nLayers(); l++) {
      layers.add(new EnumMap<>(LoraTarget.class));
    }
    for (LoraModuleWeights module : peft.modules()) {
      int l = module.layer();
      if (l >= config.nLayers()) {
        throw new IllegalArgumentException(module.modulePath() + ": the model has only " + config.nLayers()
            + " layers");
      }
      LayerShape s = config.layer(l);
      LoraTarget target = llamaTarget(module.target());
      int in = target.inFeatures(config.dim(), s);
      int out = target.outFeatures(config.dim(), s);
      if (module.inFeatures() != in || module.outFeatures() != out) {
        throw new IllegalArgumentException(module.modulePath() + ": adapter is for a (" + module.outFeatures()
            + ", " + module.inFeatures() + ") projection, the model's is (" + out + ", " + in + ")");
      }
      INDArray a = Nd4j.create(module.a(), new long[] {module.rank(), in}, 'c').castTo(dtype);
      INDArray b = Nd4j.create(module.b(), new long[] {out, module.rank()}, 'c').castTo(dtype);
      b = switch (target) {
        case Q -> RotaryLayout.fromRotateHalf(b, s.nHeads(), s.headDim());
        case K -> RotaryLayout.fromRotateHalf(b, s.nKvHeads(), s.headDim());
        default -> b;
      };
      layers.get(l).put(target, new LoraAdapter(a, b, module.scaling()));
    }
    return LoraAdapters.of(layers, peft.config().loraDropout());
  }

  /**
   * Writes adapters as a PEFT folder (adapter_config.json and adapter_model.safetensors), loadable with
   * {@code PeftModel.from_pretrained} on top of the model {@link LlamaCheckpoints#save} wrote.
   *
   * @param storage F32, F16 or BF16
   * @param provenance entries for the weights' {@code __metadata__}
   */
  public static void write(
      LoraAdapters adapters, LlamaConfig config, Path folder, String baseModelNameOrPath,
      SafetensorsDType storage, Map<String, String> provenance) throws IOException {
    toPeft(adapters, config, baseModelNameOrPath).write(folder, storage, provenance);
  }

  /**
   * Reads a PEFT folder as adapters for a model of architecture {@code config}.
   *
   * @throws FileFormatException naming the file and module when the folder is malformed or the adapter does
   *     not fit the model
   */
  public static LoraAdapters read(Path folder, LlamaConfig config, DataType dtype) throws IOException {
    PeftLoraAdapter peft = PeftLoraAdapter.read(folder);
    try {
      return fromPeft(peft, config, dtype);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME), null, e.getMessage(), e);
    }
  }

  /**
   * alpha = scaling x rank, snapped to the integer it came from when that reproduces the scaling exactly,
   * so that alpha 16 at rank 5 is written as 16 and reads back as the same scaling.
   */
  static double alpha(LoraAdapter adapter) {
    double alpha = adapter.scaling() * adapter.rank();
    double integral = Math.rint(alpha);
    return integral / adapter.rank() == adapter.scaling() ? integral : alpha;
  }

  private static void checkLayerCount(LoraAdapters adapters, LlamaConfig config) {
    if (adapters.nLayers() != config.nLayers()) {
      throw new IllegalArgumentException(
          "adapters for " + adapters.nLayers() + " layers on a " + config.nLayers() + "-layer model");
    }
  }

  private static float[] rowMajorFloats(INDArray array) {
    return Nd4j.toFlattened('c', array).toFloatVector();
  }

  static org.rankadaptor.dl4j.io.LoraTarget ioTarget(LoraTarget target) {
    return switch (target) {
      case Q -> org.rankadaptor.dl4j.io.LoraTarget.Q_PROJ;
      case K -> org.rankadaptor.dl4j.io.LoraTarget.K_PROJ;
      case V -> org.rankadaptor.dl4j.io.LoraTarget.V_PROJ;
      case O -> org.rankadaptor.dl4j.io.LoraTarget.O_PROJ;
      case GATE -> org.rankadaptor.dl4j.io.LoraTarget.GATE_PROJ;
      case UP -> org.rankadaptor.dl4j.io.LoraTarget.UP_PROJ;
      case DOWN -> org.rankadaptor.dl4j.io.LoraTarget.DOWN_PROJ;
    };
  }

  static LoraTarget llamaTarget(org.rankadaptor.dl4j.io.LoraTarget target) {
    return switch (target) {
      case Q_PROJ -> LoraTarget.Q;
      case K_PROJ -> LoraTarget.K;
      case V_PROJ -> LoraTarget.V;
      case O_PROJ -> LoraTarget.O;
      case GATE_PROJ -> LoraTarget.GATE;
      case UP_PROJ -> LoraTarget.UP;
      case DOWN_PROJ -> LoraTarget.DOWN;
    };
  }
}
