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
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.io.FileFormatException;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.rankadaptor.dl4j.io.LoraModuleWeights;
import org.rankadaptor.dl4j.io.PeftAdaLoraAdapter;
import org.rankadaptor.dl4j.io.SvdModuleWeights;
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
 *
 * @since 0.1.0
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
        int in = s.inFeatures(target, config.dim());
        int out = s.outFeatures(target, config.dim());
        if (adapter.a().size(1) != in || adapter.b().size(0) != out) {
          throw new IllegalArgumentException("layer " + l + " " + target.layerPath() + ": adapter A "
              + java.util.Arrays.toString(adapter.a().shape()) + ", B " + java.util.Arrays.toString(adapter.b().shape())
              + " do not fit a (" + out + ", " + in + ") projection");
        }
        INDArray b = switch (target) {
          case Q -> RotaryLayout.toRotateHalf(adapter.b(), s.nHeads(), s.headDim());
          case K -> RotaryLayout.toRotateHalf(adapter.b(), s.nKvHeads(), s.headDim());
          default -> adapter.b();
        };
        modules.add(new LoraModuleWeights(
            l, target, adapter.rank(), alpha(adapter), in, out,
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
      LoraTarget target = module.target();
      int in = s.inFeatures(target, config.dim());
      int out = s.outFeatures(target, config.dim());
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
   * Writes adapters as a PEFT folder (adapter_config.json and adapter_model.safetensors) for the model
   * {@link LlamaCheckpoints#save} writes. {@code PeftModel.from_pretrained} loads it onto that model once
   * the model is built with its per-layer shapes: stock {@code LlamaForCausalLM} gives every layer the
   * config's one shape, so for a pruned model each layer's projections must first be replaced by ones of
   * the widths in {@code rankadaptor_layer_shapes} (the README shows how). Unpruned models load as they are.
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
   * The PEFT form of AdaLoRA adapters on a model of architecture {@code config}: each module's kept
   * triplets (P's rows for q and k in rotate-half order, as for LoRA's B), its mask as the config's {@code
   * rank_pattern}, and {@code lora_alpha = scaling * (init_r + 1e-5)}.
   *
   * @param schedule the settings the adapters were trained with, recorded in the config
   * @throws IllegalArgumentException when a module's shape disagrees with {@code config}, modules differ in
   *     initial rank or scaling (PEFT has one {@code init_r} and one {@code lora_alpha}), or there is none
   */
  public static PeftAdaLoraAdapter toPeftAdaLora(AdaLoraAdapters adapters, LlamaConfig config,
      String baseModelNameOrPath, PeftAdaLoraAdapter.Schedule schedule) {
    Nd4jRuntime.ensureInitialized();
    if (adapters.nLayers() != config.nLayers()) {
      throw new IllegalArgumentException(
          "adapters for " + adapters.nLayers() + " layers on a " + config.nLayers() + "-layer model");
    }
    List<SvdModuleWeights> modules = new ArrayList<>();
    Double scaling = null;
    for (int l = 0; l < config.nLayers(); l++) {
      LayerShape s = config.layer(l);
      for (Map.Entry<LoraTarget, SvdAdapter> entry : adapters.layer(l).entrySet()) {
        LoraTarget target = entry.getKey();
        SvdAdapter svd = entry.getValue();
        int in = s.inFeatures(target, config.dim());
        int out = s.outFeatures(target, config.dim());
        if (svd.q().size(1) != in || svd.p().size(0) != out) {
          throw new IllegalArgumentException("layer " + l + " " + target.layerPath() + ": AdaLoRA Q "
              + java.util.Arrays.toString(svd.q().shape()) + ", P " + java.util.Arrays.toString(svd.p().shape())
              + " do not fit a (" + out + ", " + in + ") projection");
        }
        if (scaling != null && Double.compare(scaling, svd.scaling()) != 0) {
          throw new IllegalArgumentException("layer " + l + " " + target.layerPath() + " has scaling "
              + svd.scaling() + ", another module " + scaling + "; PEFT's AdaLoRA has one lora_alpha");
        }
        scaling = svd.scaling();
        long[] rows = svd.keptIndices();
        float[] q = new float[0];
        float[] lambda = new float[0];
        float[] p = new float[0];
        if (rows.length > 0) {
          INDArray keptQ = svd.q().get(NDArrayIndex.indices(rows), NDArrayIndex.all());
          INDArray keptLambda = svd.lambda().get(NDArrayIndex.indices(rows), NDArrayIndex.all());
          INDArray keptP = svd.p().get(NDArrayIndex.all(), NDArrayIndex.indices(rows)).dup();
          keptP = switch (target) {
            case Q -> RotaryLayout.toRotateHalf(keptP, s.nHeads(), s.headDim());
            case K -> RotaryLayout.toRotateHalf(keptP, s.nKvHeads(), s.headDim());
            default -> keptP;
          };
          q = rowMajorFloats(keptQ);
          lambda = rowMajorFloats(keptLambda);
          p = rowMajorFloats(keptP);
        }
        modules.add(new SvdModuleWeights(l, target, svd.kept(), in, out, q, lambda, p));
      }
    }
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("no layer has an AdaLoRA adapter; nothing to export");
    }
    double alpha = scaling * (schedule.initR() + PeftAdaLoraAdapter.RANK_EPSILON);
    double integral = Math.rint(alpha);
    if (integral / (schedule.initR() + PeftAdaLoraAdapter.RANK_EPSILON) == scaling) {
      alpha = integral;
    }
    return new PeftAdaLoraAdapter(baseModelNameOrPath, alpha, adapters.dropout(), schedule, modules);
  }

  /**
   * AdaLoRA adapters for a model of architecture {@code config} from their PEFT form, in {@code dtype}:
   * every module at its initial rank, the dropped triplets zero and masked.
   *
   * @throws IllegalArgumentException naming the module when it does not fit the model
   */
  public static AdaLoraAdapters fromPeftAdaLora(PeftAdaLoraAdapter peft, LlamaConfig config, DataType dtype) {
    Nd4jRuntime.ensureInitialized();
    List<Map<LoraTarget, SvdAdapter>> layers = new ArrayList<>(config.nLayers());
    for (int l = 0; l < config.nLayers(); l++) {
      layers.add(new EnumMap<>(LoraTarget.class));
    }
    for (SvdModuleWeights module : peft.modules()) {
      int l = module.layer();
      if (l >= config.nLayers()) {
        throw new IllegalArgumentException(module.modulePath() + ": the model has only " + config.nLayers() + " layers");
      }
      LayerShape s = config.layer(l);
      LoraTarget target = module.target();
      int in = s.inFeatures(target, config.dim());
      int out = s.outFeatures(target, config.dim());
      if (module.inFeatures() != in || module.outFeatures() != out) {
        throw new IllegalArgumentException(module.modulePath() + ": adapter is for a (" + module.outFeatures() + ", "
            + module.inFeatures() + ") projection, the model's is (" + out + ", " + in + ")");
      }
      int r = module.initialRank();
      INDArray q = Nd4j.zeros(DataType.FLOAT, r, in);
      INDArray lambda = Nd4j.zeros(DataType.FLOAT, r, 1);
      INDArray p = Nd4j.zeros(DataType.FLOAT, out, r);
      int k = module.rank();
      if (k > 0) {
        INDArray keptP = Nd4j.create(module.p(), new long[] {out, k}, 'c');
        keptP = switch (target) {
          case Q -> RotaryLayout.fromRotateHalf(keptP, s.nHeads(), s.headDim());
          case K -> RotaryLayout.fromRotateHalf(keptP, s.nKvHeads(), s.headDim());
          default -> keptP;
        };
        boolean[] kept = module.kept();
        for (int i = 0, j = 0; i < r; i++) {
          if (kept[i]) {
            q.putRow(i, Nd4j.create(java.util.Arrays.copyOfRange(module.q(), j * in, (j + 1) * in)));
            lambda.putScalar(i, 0, module.lambda()[j]);
            p.putColumn(i, keptP.getColumn(j).dup());
            j++;
          }
        }
      }
      layers.get(l).put(target, new SvdAdapter(p.castTo(dtype), lambda.castTo(dtype), q.castTo(dtype), module.kept(),
          peft.scaling()));
    }
    return AdaLoraAdapters.of(layers, peft.loraDropout());
  }

  /**
   * Writes AdaLoRA adapters as a PEFT folder ({@code peft_type} "ADALORA").
   *
   * @param storage F32, F16 or BF16
   * @param provenance entries for the weights' {@code __metadata__}
   */
  public static void writeAdaLora(AdaLoraAdapters adapters, LlamaConfig config, Path folder,
      String baseModelNameOrPath, PeftAdaLoraAdapter.Schedule schedule, SafetensorsDType storage,
      Map<String, String> provenance) throws IOException {
    toPeftAdaLora(adapters, config, baseModelNameOrPath, schedule).write(folder, storage, provenance);
  }

  /**
   * Reads a PEFT AdaLoRA folder as adapters for a model of architecture {@code config}.
   *
   * @throws FileFormatException naming the file and module when the folder is malformed or does not fit
   */
  public static AdaLoraAdapters readAdaLora(Path folder, LlamaConfig config, DataType dtype) throws IOException {
    PeftAdaLoraAdapter peft = PeftAdaLoraAdapter.read(folder);
    try {
      return fromPeftAdaLora(peft, config, dtype);
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
}
