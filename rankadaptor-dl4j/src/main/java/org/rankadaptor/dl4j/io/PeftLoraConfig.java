package org.rankadaptor.dl4j.io;

import org.rankadaptor.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The fields of a PEFT {@code adapter_config.json} for plain LoRA that decide which modules are adapted
 * and with what rank and alpha.
 *
 * <p>Rank and alpha of a module follow PEFT: the first key of {@code rank_pattern} (resp. {@code
 * alpha_pattern}), in file order, that matches the module's path as the regular expression
 * {@code (.*\.)?(key)$} gives its value, else {@code r} (resp. {@code lora_alpha}). Keys written here have
 * the form {@code layers.5.self_attn.q_proj}: older PEFT releases match keys with {@code .*\.key$}, which
 * needs a dot before the key, so a key beginning with the path's first component ({@code model.}) would
 * silently fall back to {@code r} there; this form matches in every release that supports patterns.
 *
 * @param baseModelNameOrPath the base model's hub name or path, as PEFT records it
 * @param r default rank
 * @param loraAlpha default alpha
 * @param loraDropout dropout on the LoRA input during training
 * @param modules which modules are adapted ({@code target_modules}, {@code layers_to_transform})
 * @param rankPattern per-module rank overrides, in match order
 * @param alphaPattern per-module alpha overrides, in match order
 * @since 0.1.0
 */
public record PeftLoraConfig(
    String baseModelNameOrPath,
    int r,
    double loraAlpha,
    double loraDropout,
    PeftTargets modules,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern) {

  /** Name of the configuration file in an adapter folder. */
  public static final String FILE_NAME = "adapter_config.json";

  /** Largest adapter_config.json accepted, in bytes. */
  public static final long MAX_FILE_BYTES = 16L << 20;

  /** Validates values and copies the collections, keeping the patterns' order. */
  public PeftLoraConfig {
    Objects.requireNonNull(baseModelNameOrPath, "baseModelNameOrPath");
    if (r <= 0) {
      throw new IllegalArgumentException("r must be positive, got " + r);
    }
    if (!Double.isFinite(loraAlpha)) {
      throw new IllegalArgumentException("lora_alpha must be finite, got " + loraAlpha);
    }
    if (!(loraDropout >= 0 && loraDropout < 1)) {
      throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
    }
    Objects.requireNonNull(modules, "modules");
    rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
    alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
    rankPattern.forEach(
        (key, rank) -> {
          compileKey(key);
          if (rank == null || rank <= 0) {
            throw new IllegalArgumentException("rank_pattern." + key + " must be positive, got " + rank);
          }
        });
    alphaPattern.forEach(
        (key, alpha) -> {
          compileKey(key);
          if (alpha == null || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("alpha_pattern." + key + " must be finite, got " + alpha);
          }
        });
  }

  /** The pattern key this project writes for a module: {@code layers.5.self_attn.q_proj}. */
  public static String patternKey(int layer, LoraTarget target) {
    return target.modulePath(layer).substring("model.".length());
  }

  /** The rank PEFT gives the module at this path, such as {@code model.layers.5.self_attn.q_proj}. */
  public int rankFor(String modulePath) {
    for (Map.Entry<String, Integer> entry : rankPattern.entrySet()) {
      if (matches(entry.getKey(), modulePath)) {
        return entry.getValue();
      }
    }
    return r;
  }

  /** The alpha PEFT gives the module at this path. */
  public double alphaFor(String modulePath) {
    for (Map.Entry<String, Double> entry : alphaPattern.entrySet()) {
      if (matches(entry.getKey(), modulePath)) {
        return entry.getValue();
      }
    }
    return loraAlpha;
  }

  /** Whether PEFT adapts the module at this path (see {@link PeftTargets#matches}). */
  public boolean targets(String modulePath) {
    return modules.matches(modulePath);
  }

  /** The module names of {@code target_modules}; empty when it is a pattern. */
  public List<String> targetModules() {
    return modules.targetModules();
  }

  private static boolean matches(String key, String modulePath) {
    return compileKey(key).matcher(modulePath).matches();
  }

  private static Pattern compileKey(String key) {
    try {
      return Pattern.compile("(.*\\.)?(" + key + ")");
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("pattern key \"" + key + "\" is not a valid regular expression", e);
    }
  }

  /** Reads and validates an adapter_config.json; fails on settings that change LoRA's arithmetic. */
  public static PeftLoraConfig read(Path file) throws IOException {
    JsonNode root = JsonFiles.readTree(file, MAX_FILE_BYTES, FileFormatException::new);
    requireText(file, root, "peft_type", "LORA");
    JsonNode bias = root.get("bias");
    if (bias != null && !bias.isNull() && !"none".equals(bias.asText())) {
      throw new FileFormatException(file, "bias", "only \"none\" is supported, found " + bias);
    }
    for (String unsupported : List.of("use_dora", "use_rslora", "fan_in_fan_out")) {
      JsonNode flag = root.get(unsupported);
      if (flag != null && flag.asBoolean(false)) {
        throw new FileFormatException(file, unsupported, "true is not supported");
      }
    }
    PeftTargets modules = PeftTargets.read(file, root);
    Map<String, Integer> rankPattern = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : objectEntries(file, root, "rank_pattern")) {
      JsonNode value = entry.getValue();
      if (!value.isIntegralNumber() || !value.canConvertToInt()) {
        throw new FileFormatException(file, "rank_pattern." + entry.getKey(), "expected an integer, found " + value);
      }
      rankPattern.put(entry.getKey(), value.intValue());
    }
    Map<String, Double> alphaPattern = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : objectEntries(file, root, "alpha_pattern")) {
      if (!entry.getValue().isNumber()) {
        throw new FileFormatException(file, "alpha_pattern." + entry.getKey(), "expected a number");
      }
      alphaPattern.put(entry.getKey(), entry.getValue().doubleValue());
    }
    JsonNode base = root.get("base_model_name_or_path");
    try {
      return new PeftLoraConfig(
          base == null || base.isNull() ? "" : base.asText(),
          requiredInt(file, root, "r"),
          requiredNumber(file, root, "lora_alpha"),
          root.hasNonNull("lora_dropout") ? requiredNumber(file, root, "lora_dropout") : 0.0,
          modules,
          rankPattern,
          alphaPattern);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(file, null, e.getMessage(), e);
    }
  }

  /** Writes this config as an adapter_config.json that PEFT's {@code PeftModel.from_pretrained} loads. */
  public void write(Path file) throws IOException {
    AtomicFiles.writeString(file, toJson());
  }

  /** This config as adapter_config.json text (keys PEFT has accepted since rank patterns exist). */
  public String toJson() {
    ObjectNode root = JsonFiles.MAPPER.createObjectNode();
    root.put("peft_type", "LORA");
    root.put("task_type", "CAUSAL_LM");
    root.put("base_model_name_or_path", baseModelNameOrPath);
    root.put("r", r);
    putNumber(root, "lora_alpha", loraAlpha);
    root.put("lora_dropout", loraDropout);
    modules.writeTo(root);
    putFixedFields(root);
    ObjectNode ranks = root.putObject("rank_pattern");
    rankPattern.forEach(ranks::put);
    ObjectNode alphas = root.putObject("alpha_pattern");
    alphaPattern.forEach((key, alpha) -> putNumber(alphas, key, alpha));
    return JsonFiles.pretty(root);
  }

  /** The fields every adapter this project writes has alike: no bias, inference mode, nothing else saved. */
  static void putFixedFields(ObjectNode root) {
    root.put("bias", "none");
    root.put("fan_in_fan_out", false);
    root.put("inference_mode", true);
    root.put("init_lora_weights", true);
    root.putNull("modules_to_save");
    root.putNull("revision");
  }

  // PEFT declares alpha an int; integral values are written as JSON integers.
  static void putNumber(ObjectNode node, String key, double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      node.put(key, (long) value);
    } else {
      node.put(key, value);
    }
  }

  private static void requireText(Path file, JsonNode root, String field, String expected)
      throws FileFormatException {
    JsonNode value = root.get(field);
    if (value == null || !expected.equals(value.asText())) {
      throw new FileFormatException(file, field, "expected \"" + expected + "\", found " + value);
    }
  }

  private static int requiredInt(Path file, JsonNode root, String field) throws FileFormatException {
    JsonNode value = root.get(field);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToInt()) {
      throw new FileFormatException(file, field, "expected an integer, found " + value);
    }
    return value.intValue();
  }

  private static double requiredNumber(Path file, JsonNode root, String field) throws FileFormatException {
    JsonNode value = root.get(field);
    if (value == null || !value.isNumber()) {
      throw new FileFormatException(file, field, "expected a number, found " + value);
    }
    return value.doubleValue();
  }

  private static List<Map.Entry<String, JsonNode>> objectEntries(Path file, JsonNode root, String field)
      throws FileFormatException {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isObject()) {
      throw new FileFormatException(file, field, "is not an object");
    }
    return List.copyOf(node.properties());
  }
}
