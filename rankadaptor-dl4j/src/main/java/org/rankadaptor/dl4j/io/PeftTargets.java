package org.rankadaptor.dl4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * Which modules a PEFT adapter config adapts, as PEFT decides it ({@code check_target_module_exists}):
 * either a regular expression that must match a module's whole path ({@code target_modules} given as a
 * string), or a list of module names matched at the end of the path, optionally restricted to the
 * layers in {@code layers_to_transform}.
 *
 * <p>PEFT creates an adapter on every module the config matches, whether the weights file holds its
 * tensors or not (it then warns about missing keys and trains or applies freshly initialised factors).
 * {@link #exactly} therefore builds the selection that matches exactly the modules written.
 *
 * @param targetModules module names such as {@code q_proj}; empty when {@code regex} is used
 * @param regex a pattern matching whole module paths; empty when {@code targetModules} is used
 * @param layersToTransform the layers the names apply to; empty: every layer
 * @since 0.1.0
 */
public record PeftTargets(List<String> targetModules, String regex, List<Integer> layersToTransform) {

  /** The layer index as PEFT finds it when {@code layers_pattern} is {@code layers}. */
  private static final Pattern LAYER_INDEX = Pattern.compile(".*?\\.layers\\.(\\d+)\\..*");

  /** Checks that exactly one form is used and copies the lists. */
  public PeftTargets {
    targetModules = List.copyOf(targetModules);
    Objects.requireNonNull(regex, "regex");
    layersToTransform = List.copyOf(new TreeSet<>(layersToTransform));
    if (targetModules.isEmpty() == regex.isEmpty()) {
      throw new IllegalArgumentException("target_modules must be a non-empty list of names or a pattern");
    }
    if (!regex.isEmpty()) {
      if (!layersToTransform.isEmpty()) {
        throw new IllegalArgumentException("layers_to_transform cannot be used when target_modules is a pattern");
      }
      try {
        Pattern.compile(regex);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("target_modules \"" + regex + "\" is not a valid regular expression", e);
      }
    }
  }

  /** Module names on every layer. */
  public static PeftTargets names(List<String> targetModules) {
    return new PeftTargets(targetModules, "", List.of());
  }

  /**
   * The selection that matches these modules and no other: names with {@code layers_to_transform} when the
   * modules are every listed target on every listed layer, otherwise a pattern listing each module.
   */
  public static PeftTargets exactly(Collection<Map.Entry<Integer, LoraTarget>> modules) {
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("an adapter needs at least one module");
    }
    Map<Integer, Set<LoraTarget>> byLayer = new TreeMap<>();
    for (Map.Entry<Integer, LoraTarget> m : modules) {
      byLayer.computeIfAbsent(m.getKey(), l -> EnumSet.noneOf(LoraTarget.class)).add(m.getValue());
    }
    Set<LoraTarget> first = byLayer.values().iterator().next();
    if (byLayer.values().stream().allMatch(first::equals)) {
      return new PeftTargets(first.stream().map(LoraTarget::moduleName).toList(), "", new ArrayList<>(byLayer.keySet()));
    }
    String alternatives = byLayer.entrySet().stream()
        // Dots escaped one by one: PEFT matches with Python's re, which has no \Q...\E quoting.
        .flatMap(e -> e.getValue().stream().map(t -> t.modulePath(e.getKey()).replace(".", "\\.")))
        .collect(Collectors.joining("|"));
    return new PeftTargets(List.of(), "(" + alternatives + ")", List.of());
  }

  /** Whether PEFT adapts the module at this path, such as {@code model.layers.5.self_attn.q_proj}. */
  public boolean matches(String modulePath) {
    if (!regex.isEmpty()) {
      return Pattern.compile(regex).matcher(modulePath).matches();
    }
    boolean named = targetModules.stream()
        .anyMatch(name -> modulePath.equals(name) || modulePath.endsWith("." + name));
    if (!named || layersToTransform.isEmpty()) {
      return named;
    }
    var m = LAYER_INDEX.matcher(modulePath);
    return m.matches() && layersToTransform.contains(Integer.parseInt(m.group(1)));
  }

  /** As text for messages. */
  public String describe() {
    return !regex.isEmpty() ? "target_modules \"" + regex + "\""
        : "target_modules " + targetModules + (layersToTransform.isEmpty() ? "" : " on layers " + layersToTransform);
  }

  /** Writes {@code target_modules}, {@code layers_to_transform} and {@code layers_pattern}. */
  void writeTo(ObjectNode root) {
    if (!regex.isEmpty()) {
      root.put("target_modules", regex);
    } else {
      root.putArray("target_modules").addAll(targetModules.stream().map(root::textNode).toList());
    }
    if (layersToTransform.isEmpty()) {
      root.putNull("layers_to_transform");
      root.putNull("layers_pattern");
    } else {
      root.putArray("layers_to_transform").addAll(layersToTransform.stream().map(root::numberNode).toList());
      root.put("layers_pattern", "layers");
    }
  }

  /** Reads the fields {@link #writeTo} writes, as PEFT interprets them. */
  static PeftTargets read(Path file, JsonNode root) throws FileFormatException {
    JsonNode targets = root.get("target_modules");
    List<String> names = new ArrayList<>();
    String regex = "";
    if (targets != null && targets.isTextual()) {
      regex = targets.asText();
    } else if (targets != null && targets.isArray()) {
      for (JsonNode target : targets) {
        if (!target.isTextual()) {
          throw new FileFormatException(file, "target_modules", "holds a non-string " + target);
        }
        names.add(target.asText());
      }
    } else {
      throw new FileFormatException(file, "target_modules", "expected a list of module names or a pattern");
    }
    List<Integer> layers = new ArrayList<>();
    JsonNode layerNode = root.get("layers_to_transform");
    if (layerNode != null && layerNode.isIntegralNumber()) {
      layers.add(layerNode.intValue());
    } else if (layerNode != null && layerNode.isArray()) {
      for (JsonNode layer : layerNode) {
        if (!layer.isIntegralNumber() || !layer.canConvertToInt() || layer.intValue() < 0) {
          throw new FileFormatException(file, "layers_to_transform", "holds " + layer + ", not a layer index");
        }
        layers.add(layer.intValue());
      }
    } else if (layerNode != null && !layerNode.isNull()) {
      throw new FileFormatException(file, "layers_to_transform", "expected a layer index or a list of them");
    }
    JsonNode pattern = root.get("layers_pattern");
    if (!layers.isEmpty() && pattern != null && !pattern.isNull() && !patternIsLayers(pattern)) {
      throw new FileFormatException(file, "layers_pattern", "only \"layers\" (LLaMA's) is supported, found " + pattern);
    }
    for (String field : List.of("exclude_modules", "modules_to_save")) {
      JsonNode value = root.get(field);
      if (value != null && !value.isNull() && !(value.isArray() && value.isEmpty())) {
        throw new FileFormatException(file, field, "is not supported, found " + value);
      }
    }
    try {
      return new PeftTargets(names, regex, layers);
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(file, "target_modules", e.getMessage(), e);
    }
  }

  private static boolean patternIsLayers(JsonNode pattern) {
    if (pattern.isTextual()) {
      return pattern.asText().equals("layers") || pattern.asText().isEmpty();
    }
    return pattern.isArray() && pattern.size() == 1 && "layers".equals(pattern.get(0).asText());
  }
}
