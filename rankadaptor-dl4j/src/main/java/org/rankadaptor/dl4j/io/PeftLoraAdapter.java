package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LoRA adapter in PEFT's folder format: {@value PeftLoraConfig#FILE_NAME} plus {@value #WEIGHTS_FILE_NAME}
 * with tensors named {@code base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight} (A,
 * {@code [r, in]}) and {@code ...lora_B.weight} (B, {@code [out, r]}), and likewise for k, v, o and the MLP's
 * gate, up and down projections. Such a folder loads with {@code PeftModel.from_pretrained} onto a model
 * whose projections have the shapes the tensors fit (for a pruned model, see {@code PeftAdapters#write}).
 *
 * <p>Construction checks that the config and the modules agree: each module is targeted and has the rank
 * and alpha the config's patterns give it; reading applies the same checks plus the tensors' shapes.
 *
 * @param config the adapter configuration
 * @param modules the adapted projections, sorted by layer then target, at most one per (layer, target)
 * @since 0.1.0
 */
public record PeftLoraAdapter(PeftLoraConfig config, List<LoraModuleWeights> modules) {

  /** Name of the weights file in an adapter folder. */
  public static final String WEIGHTS_FILE_NAME = "adapter_model.safetensors";

  private static final String PREFIX = "base_model.model.";
  private static final Pattern TENSOR_NAME =
      Pattern.compile(
          Pattern.quote(PREFIX)
              + "(model\\.layers\\.(\\d{1,9})\\.(self_attn|mlp)\\.([a-z_]+))\\.lora_([AB])\\.weight");

  /** Checks that modules and config agree and sorts the modules. */
  public PeftLoraAdapter {
    List<LoraModuleWeights> sorted = new ArrayList<>(modules);
    sorted.sort(Comparator.comparingInt(LoraModuleWeights::layer).thenComparing(LoraModuleWeights::target));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).layer() == sorted.get(i - 1).layer()
          && sorted.get(i).target() == sorted.get(i - 1).target()) {
        throw new IllegalArgumentException(sorted.get(i).modulePath() + " appears twice");
      }
    }
    for (LoraModuleWeights module : sorted) {
      String path = module.modulePath();
      if (!config.targets(path)) {
        throw new IllegalArgumentException(path + " is not among the config's " + config.modules().describe());
      }
      if (config.rankFor(path) != module.rank()) {
        throw new IllegalArgumentException(
            path + " has rank " + module.rank() + " but the config gives it " + config.rankFor(path));
      }
      if (Double.compare(config.alphaFor(path), module.alpha()) != 0) {
        throw new IllegalArgumentException(
            path + " has alpha " + module.alpha() + " but the config gives it " + config.alphaFor(path));
      }
    }
    modules = List.copyOf(sorted);
  }

  /**
   * Builds the adapter and a config that describes it: {@code r} and {@code lora_alpha} are the most
   * common rank and alpha (the smaller on ties), and every module that differs gets a pattern entry.
   *
   * @param baseModelNameOrPath recorded as {@code base_model_name_or_path}
   * @param loraDropout recorded as {@code lora_dropout}
   */
  public static PeftLoraAdapter of(
      String baseModelNameOrPath, double loraDropout, List<LoraModuleWeights> modules) {
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("an adapter needs at least one module");
    }
    int r = mostCommon(modules.stream().map(LoraModuleWeights::rank).toList());
    double alpha = mostCommon(modules.stream().map(LoraModuleWeights::alpha).toList());
    Map<String, Integer> rankPattern = new LinkedHashMap<>();
    Map<String, Double> alphaPattern = new LinkedHashMap<>();
    List<LoraModuleWeights> sorted = new ArrayList<>(modules);
    sorted.sort(Comparator.comparingInt(LoraModuleWeights::layer).thenComparing(LoraModuleWeights::target));
    for (LoraModuleWeights module : sorted) {
      String key = PeftLoraConfig.patternKey(module.layer(), module.target());
      if (module.rank() != r) {
        rankPattern.put(key, module.rank());
      }
      if (Double.compare(module.alpha(), alpha) != 0) {
        alphaPattern.put(key, module.alpha());
      }
    }
    PeftTargets selection = PeftTargets.exactly(
        sorted.stream().map(m -> Map.entry(m.layer(), m.target())).toList());
    return new PeftLoraAdapter(
        new PeftLoraConfig(baseModelNameOrPath, r, alpha, loraDropout, selection, rankPattern, alphaPattern),
        sorted);
  }

  /** The module adapting {@code target} in {@code layer}, if there is one. */
  public Optional<LoraModuleWeights> module(int layer, LoraTarget target) {
    return modules.stream().filter(m -> m.layer() == layer && m.target() == target).findFirst();
  }

  /**
   * Writes the adapter folder (created if needed): the config and the weights as F32, F16 or BF16, with
   * {@code format: pt} and the given provenance in the weights' {@code __metadata__}.
   */
  public void write(Path folder, SafetensorsDType dtype, Map<String, String> provenance) throws IOException {
    Files.createDirectories(folder);
    SafetensorsWriter writer = new SafetensorsWriter().metadata(provenance).metadata(SafetensorsWriter.PYTORCH_FORMAT);
    for (LoraModuleWeights module : modules) {
      String base = PREFIX + module.modulePath();
      writer.add(base + ".lora_A.weight", dtype, module.a(), module.rank(), module.inFeatures());
      writer.add(base + ".lora_B.weight", dtype, module.b(), module.outFeatures(), module.rank());
    }
    writer.write(folder.resolve(WEIGHTS_FILE_NAME));
    config.write(folder.resolve(PeftLoraConfig.FILE_NAME));
  }

  /**
   * Reads an adapter folder, checking every tensor's name, shape, rank and alpha against the config.
   *
   * @throws FileFormatException naming the file and tensor or field at fault
   */
  public static PeftLoraAdapter read(Path folder) throws IOException {
    PeftLoraConfig config = PeftLoraConfig.read(folder.resolve(PeftLoraConfig.FILE_NAME));
    Path weightsFile = folder.resolve(WEIGHTS_FILE_NAME);
    Map<String, SafetensorsTensorInfo[]> pairs = new TreeMap<>();
    List<LoraModuleWeights> modules = new ArrayList<>();
    try (SafetensorsFile weights = SafetensorsFile.open(weightsFile)) {
      Map<String, LoraTarget> targetOf = new HashMap<>();
      Map<String, Integer> layerOf = new HashMap<>();
      for (SafetensorsTensorInfo info : weights.infos()) {
        Matcher matcher = TENSOR_NAME.matcher(info.name());
        Optional<LoraTarget> target =
            matcher.matches() ? LoraTarget.fromModuleName(matcher.group(4)) : Optional.empty();
        if (target.isEmpty() || !target.get().block().equals(matcher.group(3))) {
          throw new FileFormatException(
              weightsFile, info.name(), "not a LoRA factor of a LLaMA projection (expected "
                  + PREFIX + "model.layers.{i}.self_attn.q_proj.lora_A.weight and the like)");
        }
        String path = matcher.group(1);
        targetOf.put(path, target.get());
        layerOf.put(path, Integer.parseInt(matcher.group(2)));
        pairs.computeIfAbsent(path, p -> new SafetensorsTensorInfo[2])["A".equals(matcher.group(5)) ? 0 : 1] = info;
      }
      for (Map.Entry<String, SafetensorsTensorInfo[]> pair : pairs.entrySet()) {
        modules.add(readModule(weightsFile, weights, config, pair.getKey(), layerOf.get(pair.getKey()),
            targetOf.get(pair.getKey()), pair.getValue()));
      }
    }
    try {
      return new PeftLoraAdapter(config, modules);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(weightsFile, null, e.getMessage(), e);
    }
  }

  private static LoraModuleWeights readModule(
      Path file, SafetensorsFile weights, PeftLoraConfig config, String path, int layer, LoraTarget target,
      SafetensorsTensorInfo[] pair) throws IOException {
    String base = PREFIX + path;
    if (pair[0] == null || pair[1] == null) {
      throw new FileFormatException(
          file, base + (pair[0] == null ? ".lora_A.weight" : ".lora_B.weight"), "missing (its partner is present)");
    }
    SafetensorsTensorInfo a = pair[0];
    SafetensorsTensorInfo b = pair[1];
    if (!config.targets(path)) {
      throw new FileFormatException(file, a.name(), "module is not among the " + config.modules().describe() + " of "
          + PeftLoraConfig.FILE_NAME);
    }
    int rank = config.rankFor(path);
    if (a.rank() != 2 || b.rank() != 2) {
      throw new FileFormatException(file, a.rank() != 2 ? a.name() : b.name(), "LoRA factors must be matrices");
    }
    long[] aShape = a.shape();
    long[] bShape = b.shape();
    if (aShape[0] != rank || bShape[1] != rank) {
      throw new FileFormatException(
          file,
          aShape[0] != rank ? a.name() : b.name(),
          "shape A " + java.util.Arrays.toString(aShape) + ", B " + java.util.Arrays.toString(bShape)
              + " does not match rank " + rank + " from adapter_config.json");
    }
    if (aShape[1] <= 0 || bShape[0] <= 0 || aShape[1] > Integer.MAX_VALUE || bShape[0] > Integer.MAX_VALUE) {
      throw new FileFormatException(file, a.name(), "feature counts must be positive ints");
    }
    return new LoraModuleWeights(
        layer, target, rank, config.alphaFor(path), (int) aShape[1], (int) bShape[0],
        weights.readFloats(a.name()), weights.readFloats(b.name()));
  }

  private static <T extends Comparable<T>> T mostCommon(List<T> values) {
    Map<T, Integer> counts = new TreeMap<>();
    values.forEach(value -> counts.merge(value, 1, Integer::sum));
    T best = null;
    int bestCount = 0;
    for (Map.Entry<T, Integer> entry : counts.entrySet()) { // ascending: ties keep the smaller
      if (entry.getValue() > bestCount) {
        best = entry.getKey();
        bestCount = entry.getValue();
      }
    }
    return best;
  }
}
