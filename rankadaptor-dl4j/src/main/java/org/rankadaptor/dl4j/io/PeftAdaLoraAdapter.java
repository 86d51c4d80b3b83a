package org.rankadaptor.dl4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rankadaptor.AtomicFiles;

/**
 * An AdaLoRA adapter in PEFT's folder format ({@code peft_type} "ADALORA"): {@value
 * PeftLoraConfig#FILE_NAME} with AdaLoRA's settings and its {@code rank_pattern}, one list of booleans per
 * module keyed like {@code model.layers.0.self_attn.q_proj.lora_E} saying which of the {@code init_r}
 * triplets were kept, and {@value PeftLoraAdapter#WEIGHTS_FILE_NAME} holding only the kept triplets:
 * {@code base_model.model.model.layers.{i}.self_attn.q_proj.lora_A} (Q, {@code [kept, in]}), {@code
 * ...lora_E} (lambda, {@code [kept, 1]}) and {@code ...lora_B} (P, {@code [out, kept]}), without the
 * {@code .weight} suffix of LoRA's factors (PEFT keeps them as parameters, not modules). A module with no
 * kept triplet has tensors with a zero dimension, as PEFT writes them. PEFT scales every module by {@code
 * lora_alpha / (init_r + 1e-5)}.
 *
 * @param baseModelNameOrPath recorded as {@code base_model_name_or_path}
 * @param loraAlpha {@code lora_alpha}
 * @param loraDropout {@code lora_dropout}
 * @param schedule the settings AdaLoRA trained with
 * @param modules the adapted projections, sorted by layer then target, all of initial rank {@code init_r}
 * @since 0.1.0
 */
public record PeftAdaLoraAdapter(
    String baseModelNameOrPath, double loraAlpha, double loraDropout, Schedule schedule,
    List<SvdModuleWeights> modules) {

  /** PEFT's rank is divided with this added. */
  public static final double RANK_EPSILON = 1e-5;

  private static final String PREFIX = "base_model.model.";
  private static final Pattern TENSOR_NAME = Pattern.compile(
      Pattern.quote(PREFIX) + "(model\\.layers\\.(\\d{1,9})\\.(self_attn|mlp)\\.([a-z_]+))\\.lora_([AEB])");

  /**
   * AdaLoRA's settings as {@code adapter_config.json} records them.
   *
   * @param initR {@code init_r}
   * @param targetR {@code target_r}
   * @param tinit warm-up steps
   * @param tfinal final steps
   * @param deltaT steps between maskings
   * @param beta1 sensitivity smoothing
   * @param beta2 uncertainty smoothing
   * @param orthRegWeight orthogonality regulariser weight
   * @param totalStep the training's optimiser steps
   */
  public record Schedule(int initR, int targetR, int tinit, int tfinal, int deltaT, double beta1, double beta2,
      double orthRegWeight, int totalStep) {}

  /** Checks the modules against the schedule and sorts them. */
  public PeftAdaLoraAdapter {
    List<SvdModuleWeights> sorted = new ArrayList<>(modules);
    sorted.sort(Comparator.comparingInt(SvdModuleWeights::layer).thenComparing(SvdModuleWeights::target));
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("an adapter needs at least one module");
    }
    for (int i = 0; i < sorted.size(); i++) {
      SvdModuleWeights m = sorted.get(i);
      if (i > 0 && m.layer() == sorted.get(i - 1).layer() && m.target() == sorted.get(i - 1).target()) {
        throw new IllegalArgumentException(m.modulePath() + " appears twice");
      }
      if (m.initialRank() != schedule.initR()) {
        throw new IllegalArgumentException(m.modulePath() + " starts at rank " + m.initialRank() + "; PEFT's AdaLoRA "
            + "gives every module init_r " + schedule.initR());
      }
    }
    modules = List.copyOf(sorted);
  }

  /** Which modules the config adapts: exactly these. */
  public PeftTargets targets() {
    return PeftTargets.exactly(modules.stream().map(m -> Map.entry(m.layer(), m.target())).toList());
  }

  /** The scaling PEFT applies to every module's product. */
  public double scaling() {
    return loraAlpha / (schedule.initR() + RANK_EPSILON);
  }

  /** The module adapting {@code target} in {@code layer}, if there is one. */
  public Optional<SvdModuleWeights> module(int layer, LoraTarget target) {
    return modules.stream().filter(m -> m.layer() == layer && m.target() == target).findFirst();
  }

  /** Writes the folder (created if needed): the config, and the weights as F32, F16 or BF16 with provenance. */
  public void write(Path folder, SafetensorsDType dtype, Map<String, String> provenance) throws IOException {
    Files.createDirectories(folder);
    SafetensorsWriter writer = new SafetensorsWriter().metadata(provenance).metadata(SafetensorsWriter.PYTORCH_FORMAT);
    for (SvdModuleWeights m : modules) {
      String base = PREFIX + m.modulePath();
      writer.add(base + ".lora_A", dtype, m.q(), m.rank(), m.inFeatures());
      writer.add(base + ".lora_B", dtype, m.p(), m.outFeatures(), m.rank());
      writer.add(base + ".lora_E", dtype, m.lambda(), m.rank(), 1);
    }
    writer.write(folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME));
    AtomicFiles.writeString(folder.resolve(PeftLoraConfig.FILE_NAME), configJson());
  }

  /** The adapter_config.json text. */
  public String configJson() {
    ObjectNode root = JsonFiles.MAPPER.createObjectNode();
    root.put("peft_type", "ADALORA");
    root.put("task_type", "CAUSAL_LM");
    root.put("base_model_name_or_path", baseModelNameOrPath);
    root.put("init_r", schedule.initR());
    root.put("target_r", schedule.targetR());
    root.put("r", 8); // unused by AdaLoRA; PEFT warns when it differs from its default
    PeftLoraConfig.putNumber(root, "lora_alpha", loraAlpha);
    root.put("lora_dropout", loraDropout);
    targets().writeTo(root);
    root.put("tinit", schedule.tinit());
    root.put("tfinal", schedule.tfinal());
    root.put("deltaT", schedule.deltaT());
    root.put("beta1", schedule.beta1());
    root.put("beta2", schedule.beta2());
    root.put("orth_reg_weight", schedule.orthRegWeight());
    root.put("total_step", schedule.totalStep());
    PeftLoraConfig.putFixedFields(root);
    ObjectNode pattern = root.putObject("rank_pattern");
    for (SvdModuleWeights m : modules) {
      ArrayNode mask = pattern.putArray(m.modulePath() + ".lora_E");
      for (boolean k : m.kept()) {
        mask.add(k);
      }
    }
    return JsonFiles.pretty(root);
  }

  /**
   * Reads an AdaLoRA adapter folder, checking every tensor's name and shape against the config's rank
   * pattern.
   *
   * @throws FileFormatException naming the file and the field or tensor at fault
   */
  public static PeftAdaLoraAdapter read(Path folder) throws IOException {
    Path configFile = folder.resolve(PeftLoraConfig.FILE_NAME);
    JsonNode root = JsonFiles.readTree(configFile, PeftLoraConfig.MAX_FILE_BYTES, FileFormatException::new);
    JsonNode type = root.get("peft_type");
    if (type == null || !"ADALORA".equals(type.asText())) {
      throw new FileFormatException(configFile, "peft_type", "expected \"ADALORA\", found " + type);
    }
    for (String unsupported : List.of("use_dora", "use_rslora", "fan_in_fan_out")) {
      if (root.path(unsupported).asBoolean(false)) {
        throw new FileFormatException(configFile, unsupported, "true is not supported");
      }
    }
    PeftTargets targets = PeftTargets.read(configFile, root);
    Schedule schedule = new Schedule(
        positiveInt(configFile, root, "init_r"), positiveInt(configFile, root, "target_r"),
        root.path("tinit").asInt(0), root.path("tfinal").asInt(0), root.path("deltaT").asInt(1),
        root.path("beta1").asDouble(0.85), root.path("beta2").asDouble(0.85),
        root.path("orth_reg_weight").asDouble(0.5), root.path("total_step").asInt(0));
    JsonNode alphaNode = root.get("lora_alpha");
    if (alphaNode == null || !alphaNode.isNumber() || !Double.isFinite(alphaNode.doubleValue())) {
      throw new FileFormatException(configFile, "lora_alpha", "expected a number, found " + alphaNode);
    }
    Map<String, boolean[]> pattern = new HashMap<>();
    JsonNode patternNode = root.get("rank_pattern");
    if (patternNode != null && !patternNode.isNull()) {
      if (!patternNode.isObject()) {
        throw new FileFormatException(configFile, "rank_pattern", "is not an object");
      }
      for (Map.Entry<String, JsonNode> e : patternNode.properties()) {
        JsonNode list = e.getValue();
        if (!list.isArray() || list.size() != schedule.initR()) {
          throw new FileFormatException(configFile, "rank_pattern." + e.getKey(),
              "expected a list of " + schedule.initR() + " booleans (init_r)");
        }
        boolean[] kept = new boolean[list.size()];
        for (int i = 0; i < kept.length; i++) {
          if (!list.get(i).isBoolean()) {
            throw new FileFormatException(configFile, "rank_pattern." + e.getKey(), "holds " + list.get(i));
          }
          kept[i] = list.get(i).booleanValue();
        }
        pattern.put(e.getKey().replaceFirst("\\.lora_E$", ""), kept);
      }
    }
    Path weightsFile = folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME);
    List<SvdModuleWeights> modules = new ArrayList<>();
    try (SafetensorsFile weights = SafetensorsFile.open(weightsFile)) {
      Map<String, SafetensorsTensorInfo[]> triplets = new LinkedHashMap<>();
      Map<String, Matcher> matchers = new HashMap<>();
      for (SafetensorsTensorInfo info : weights.infos()) {
        Matcher m = TENSOR_NAME.matcher(info.name());
        Optional<LoraTarget> target = m.matches() ? LoraTarget.fromModuleName(m.group(4)) : Optional.empty();
        if (target.isEmpty() || !target.get().block().equals(m.group(3))) {
          throw new FileFormatException(weightsFile, info.name(), "not an AdaLoRA factor of a LLaMA projection "
              + "(expected " + PREFIX + "model.layers.{i}.self_attn.q_proj.lora_A, lora_E or lora_B)");
        }
        matchers.put(m.group(1), m);
        triplets.computeIfAbsent(m.group(1), k -> new SafetensorsTensorInfo[3])["AEB".indexOf(m.group(5))] = info;
      }
      for (Map.Entry<String, SafetensorsTensorInfo[]> entry : triplets.entrySet()) {
        String path = entry.getKey();
        SafetensorsTensorInfo[] t = entry.getValue();
        for (int i = 0; i < 3; i++) {
          if (t[i] == null) {
            throw new FileFormatException(weightsFile, PREFIX + path + ".lora_" + "AEB".charAt(i), "missing");
          }
          if (t[i].rank() != 2) {
            throw new FileFormatException(weightsFile, t[i].name(), "AdaLoRA factors must be matrices");
          }
        }
        if (!targets.matches(path)) {
          throw new FileFormatException(weightsFile, t[0].name(), "module is not among the config's " + targets.describe());
        }
        boolean[] kept = pattern.get(path);
        if (kept == null) {
          kept = new boolean[schedule.initR()];
          java.util.Arrays.fill(kept, true);
        }
        int rank = SvdModuleWeights.keptCount(kept);
        long[] a = t[0].shape();
        long[] e = t[1].shape();
        long[] b = t[2].shape();
        if (a[0] != rank || e[0] != rank || e[1] != 1 || b[1] != rank) {
          throw new FileFormatException(weightsFile, t[0].name(), "shapes A " + java.util.Arrays.toString(a) + ", E "
              + java.util.Arrays.toString(e) + ", B " + java.util.Arrays.toString(b) + " do not hold the " + rank
              + " triplets rank_pattern keeps");
        }
        Matcher m = matchers.get(path);
        try {
          modules.add(new SvdModuleWeights(Integer.parseInt(m.group(2)), LoraTarget.fromModuleName(m.group(4)).get(),
              kept, (int) a[1], (int) b[0], weights.readFloats(t[0].name()), weights.readFloats(t[1].name()),
              weights.readFloats(t[2].name())));
        } catch (IllegalArgumentException ex) {
          throw new FileFormatException(weightsFile, t[0].name(), ex.getMessage(), ex);
        }
      }
    }
    try {
      return new PeftAdaLoraAdapter(root.path("base_model_name_or_path").asText(""), alphaNode.doubleValue(),
          root.path("lora_dropout").asDouble(0), schedule, modules);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(weightsFile, null, e.getMessage(), e);
    }
  }

  private static int positiveInt(Path file, JsonNode root, String field) throws FileFormatException {
    JsonNode value = root.get(field);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 1) {
      throw new FileFormatException(file, field, "expected a positive integer, found " + value);
    }
    return value.intValue();
  }
}
