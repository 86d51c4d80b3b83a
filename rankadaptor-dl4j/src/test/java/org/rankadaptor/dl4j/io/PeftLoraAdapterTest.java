package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftLoraAdapterTest {

  @TempDir Path dir;

  /** Factors filled from a seeded stream so that every value differs. */
  static LoraModuleWeights module(int layer, LoraTarget target, int rank, double alpha, int in, int out, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] a = new float[rank * in];
    float[] b = new float[out * rank];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) random.nextGaussian();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) random.nextGaussian();
    }
    return new LoraModuleWeights(layer, target, rank, alpha, in, out, a, b);
  }

  /** Two layers of a pruned model: ranks 8 mostly, layer 1's attention at 4 and its MLP down at 12. */
  static List<LoraModuleWeights> modules() {
    List<LoraModuleWeights> modules = new ArrayList<>();
    long seed = 1;
    for (int layer = 0; layer < 2; layer++) {
      int attention = layer == 0 ? 64 : 48; // pruned heads shrink q/k/v outputs and o input
      for (LoraTarget target : LoraTarget.values()) {
        int rank = layer == 1 && target.block().equals("self_attn") ? 4 : layer == 1 && target == LoraTarget.DOWN ? 12 : 8;
        double alpha = layer == 1 && target == LoraTarget.DOWN ? 24 : 16;
        int[] inOut = switch (target) {
          case Q, K, V -> new int[] {64, attention};
          case O -> new int[] {attention, 64};
          case GATE, UP -> new int[] {64, 172 - 40 * layer};
          case DOWN -> new int[] {172 - 40 * layer, 64};
        };
        modules.add(module(layer, target, rank, alpha, inOut[0], inOut[1], seed++));
      }
    }
    return modules;
  }

  @Test
  void writesPeftNamesShapesAndConfigAndReadsThemBack() throws IOException {
    PeftLoraAdapter adapter = PeftLoraAdapter.of("stories260K-pruned", 0.05, modules());
    PeftLoraConfig config = adapter.config();
    assertEquals(8, config.r());
    assertEquals(16.0, config.loraAlpha());
    assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), config.targetModules());
    Map<String, Integer> ranks = new LinkedHashMap<>();
    for (LoraTarget t : List.of(LoraTarget.Q, LoraTarget.K, LoraTarget.V, LoraTarget.O)) {
      ranks.put("layers.1.self_attn." + t.moduleName(), 4);
    }
    ranks.put("layers.1.mlp.down_proj", 12);
    assertEquals(ranks, config.rankPattern());
    assertEquals(Map.of("layers.1.mlp.down_proj", 24.0), config.alphaPattern());

    Path folder = dir.resolve("adapter");
    adapter.write(folder, SafetensorsDType.F32, Map.of("rankadaptor.seed", "7"));
    try (SafetensorsFile weights = SafetensorsFile.open(folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME))) {
      assertEquals(Map.of("format", "pt", "rankadaptor.seed", "7"), weights.metadata());
      assertEquals(28, weights.tensorNames().size());
      SafetensorsTensorInfo a = weights.info("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
      SafetensorsTensorInfo b = weights.info("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
      assertArrayEquals(new long[] {4, 64}, a.shape());
      assertArrayEquals(new long[] {48, 4}, b.shape());
      assertArrayEquals(new long[] {12, 132},
          weights.info("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape());
    }
    JsonNode json = JsonFiles.MAPPER.readTree(folder.resolve(PeftLoraConfig.FILE_NAME).toFile());
    assertEquals("LORA", json.get("peft_type").asText());
    assertEquals("CAUSAL_LM", json.get("task_type").asText());
    assertEquals("none", json.get("bias").asText());
    assertTrue(json.get("lora_alpha").isIntegralNumber(), "PEFT declares lora_alpha an int");
    assertEquals(12, json.get("rank_pattern").get("layers.1.mlp.down_proj").intValue());

    PeftLoraAdapter read = PeftLoraAdapter.read(folder);
    assertEquals(adapter, read);
    LoraModuleWeights down = read.module(1, LoraTarget.DOWN).orElseThrow();
    assertEquals(2.0, down.scaling());
    assertEquals(0.05, read.config().loraDropout());
  }

  @Test
  void halfPrecisionAdaptersRoundTripToRoundedValues() throws IOException {
    PeftLoraAdapter adapter = PeftLoraAdapter.of("base", 0.0, List.of(module(0, LoraTarget.V, 2, 4, 3, 5, 9)));
    adapter.write(dir, SafetensorsDType.BF16, Map.of());
    LoraModuleWeights read = PeftLoraAdapter.read(dir).modules().get(0);
    float[] a = adapter.modules().get(0).a();
    for (int i = 0; i < a.length; i++) {
      assertEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(a[i])), read.a()[i]);
    }
  }

  @Test
  void patternKeysMatchLikePeft() {
    Map<String, Integer> ranks = new LinkedHashMap<>();
    ranks.put("layers.1.self_attn.q_proj", 4);
    ranks.put("model.layers.2.self_attn.q_proj", 6); // a full path matches too in current PEFT
    ranks.put("q_proj", 2); // suffix of every q_proj; earlier keys win
    PeftLoraConfig config = new PeftLoraConfig("m", 8, 16, 0, PeftTargets.names(List.of("q_proj", "k_proj")), ranks, Map.of());
    assertEquals(4, config.rankFor("model.layers.1.self_attn.q_proj"));
    assertEquals(2, config.rankFor("model.layers.11.self_attn.q_proj"), "layers.1 must not match layers.11");
    assertEquals(6, config.rankFor("model.layers.2.self_attn.q_proj"));
    assertEquals(8, config.rankFor("model.layers.1.self_attn.k_proj"));
    assertEquals(16.0, config.alphaFor("model.layers.1.self_attn.k_proj"));
    assertTrue(config.targets("model.layers.1.self_attn.k_proj"));
    assertTrue(!config.targets("model.layers.1.self_attn.v_proj"));
    assertThrows(IllegalArgumentException.class,
        () -> new PeftLoraConfig("m", 8, 16, 0, PeftTargets.names(List.of("q_proj")), Map.of("layers.(", 2), Map.of()));
  }

  @Test
  void readsAConfigAsPeftWritesIt() throws IOException {
    PeftLoraAdapter.of("b", 0, List.of(module(3, LoraTarget.UP, 4, 8, 6, 10, 3))).write(dir, SafetensorsDType.F32, Map.of());
    // Fields of a PEFT 0.13 save, including ones this project neither writes nor needs.
    Files.writeString(dir.resolve(PeftLoraConfig.FILE_NAME), """
        {"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "b", "bias": "none",
         "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true,
         "layer_replication": null, "layers_pattern": null, "layers_to_transform": null,
         "loftq_config": {}, "lora_alpha": 8, "lora_dropout": 0.05, "megatron_config": null,
         "megatron_core": "megatron.core", "modules_to_save": null, "peft_type": "LORA", "r": 4,
         "rank_pattern": {}, "revision": null, "target_modules": ["up_proj", "down_proj"],
         "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": false}
        """);
    PeftLoraAdapter read = PeftLoraAdapter.read(dir);
    assertEquals(List.of("up_proj", "down_proj"), read.config().targetModules());
    assertEquals(2.0, read.modules().get(0).scaling());
  }

  private FileFormatException rejected(Path file) {
    FileFormatException e = assertThrows(FileFormatException.class, () -> PeftLoraAdapter.read(dir));
    assertEquals(file, e.file());
    return e;
  }

  @Test
  void readRejectsShapesThatDisagreeWithTheRankPattern() throws IOException {
    PeftLoraAdapter.of("b", 0, modules()).write(dir, SafetensorsDType.F32, Map.of());
    Path config = dir.resolve(PeftLoraConfig.FILE_NAME);
    String text = Files.readString(config);
    Files.writeString(config, text.replace("\"layers.1.mlp.down_proj\" : 12", "\"layers.1.mlp.down_proj\" : 10"));
    FileFormatException e = rejected(dir.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME));
    assertEquals("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight", e.item().orElseThrow());
    assertTrue(e.getMessage().contains("rank 10"), e.getMessage());

    Files.writeString(config, text.replace("\"down_proj\" ]", "\"up_proj\" ]").replace(", \"down_proj\"", ""));
    assertTrue(rejected(dir.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME)).getMessage().contains("target_modules"));

    Files.writeString(config, text.replace("\"peft_type\" : \"LORA\"", "\"peft_type\" : \"IA3\""));
    assertEquals("peft_type", rejected(config).item().orElseThrow());
    Files.writeString(config, text.replace("\"bias\" : \"none\"", "\"bias\" : \"all\""));
    assertEquals("bias", rejected(config).item().orElseThrow());
    Files.writeString(config, text.replace("\"r\" : 8", "\"r\" : 8, \"use_dora\" : true"));
    assertEquals("use_dora", rejected(config).item().orElseThrow());
    Files.writeString(config, text.replace("\"r\" : 8", "\"r\" : 0"));
    rejected(config);
  }

  @Test
  void readRejectsForeignOrUnpairedTensors() throws IOException {
    PeftLoraAdapter adapter = PeftLoraAdapter.of("b", 0, List.of(module(0, LoraTarget.Q, 2, 4, 3, 5, 1)));
    adapter.config().write(dir.resolve(PeftLoraConfig.FILE_NAME));
    Path weights = dir.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME);
    LoraModuleWeights m = adapter.modules().get(0);
    new SafetensorsWriter().add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", m.a(), 2, 3).write(weights);
    assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", rejected(weights).item().orElseThrow());
    new SafetensorsWriter().add("base_model.model.lm_head.weight", m.a(), 2, 3).write(weights);
    assertEquals("base_model.model.lm_head.weight", rejected(weights).item().orElseThrow());
    new SafetensorsWriter().add("base_model.model.model.layers.0.mlp.q_proj.lora_A.weight", m.a(), 2, 3).write(weights);
    rejected(weights);
    new SafetensorsWriter()
        .add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", m.a(), 6)
        .add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", m.b(), 5, 2)
        .write(weights);
    assertTrue(rejected(weights).getMessage().contains("matrices"));
  }

  @Test
  void constructionChecksModulesAgainstTheConfig() {
    LoraModuleWeights q = module(0, LoraTarget.Q, 2, 4, 3, 5, 1);
    PeftLoraConfig config = new PeftLoraConfig("b", 4, 4, 0, PeftTargets.names(List.of("q_proj")), Map.of(), Map.of());
    assertThrows(IllegalArgumentException.class, () -> new PeftLoraAdapter(config, List.of(q)), "rank 2 vs r 4");
    assertThrows(IllegalArgumentException.class, () -> PeftLoraAdapter.of("b", 0, List.of(q, q)), "duplicate");
    assertThrows(IllegalArgumentException.class,
        () -> new LoraModuleWeights(0, LoraTarget.Q, 2, 4, 3, 5, new float[5], new float[10]));
  }
}
