package org.rankadaptor.dl4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rankadaptor.dl4j.llama.LlamaCheckpointsTest.PRUNED;
import static org.rankadaptor.dl4j.llama.LlamaCheckpointsTest.TOKENS;
import static org.rankadaptor.dl4j.llama.LlamaCheckpointsTest.floats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.FileFormatException;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.io.PeftAdaLoraAdapter;
import org.rankadaptor.dl4j.io.PeftLoraAdapter;
import org.rankadaptor.dl4j.io.PeftLoraConfig;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.io.SafetensorsFile;

/** PEFT export and import of per-layer adapters, including the rotate-half order of q/k B rows. */
class PeftAdaptersTest {

  @TempDir Path dir;

  /** Adapters as {@link LoraAdapters#init} makes them, but with a non-zero, seeded B so that they matter. */
  static LoraAdapters trainedLookingAdapters(
      LlamaConfig config, int[] ranks, double[] alphas, Set<LoraTarget> targets, long seed, DataType dtype) {
    LoraAdapters fresh = LoraAdapters.init(config, ranks, alphas, targets, 0.05, seed, dtype);
    SplittableRandom random = new SplittableRandom(seed + 1);
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    for (int l = 0; l < fresh.nLayers(); l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      for (Map.Entry<LoraTarget, LoraAdapter> e : fresh.layer(l).entrySet()) {
        long[] shape = e.getValue().b().shape();
        double[] b = new double[(int) (shape[0] * shape[1])];
        for (int i = 0; i < b.length; i++) {
          b[i] = 0.2 * (2 * random.nextDouble() - 1);
        }
        layer.put(e.getKey(), new LoraAdapter(
            e.getValue().a(), Nd4j.create(b, shape, DataType.DOUBLE).castTo(dtype), e.getValue().scaling()));
      }
      layers.add(layer);
    }
    return LoraAdapters.of(layers, fresh.dropout());
  }

  private static LoraAdapters allTargets(long seed) {
    return trainedLookingAdapters(PRUNED, new int[] {2, 0, 3}, new double[] {16, 0, 6},
        EnumSet.allOf(LoraTarget.class), seed, DataType.FLOAT);
  }

  @Test
  void theConfigMatchesExactlyTheModulesTheFileHolds() throws IOException {
    PeftAdapters.write(allTargets(43), PRUNED, dir, "pruned-model", SafetensorsDType.F32, Map.of());
    PeftLoraConfig config = PeftLoraConfig.read(dir.resolve(PeftLoraConfig.FILE_NAME));
    // PEFT adapts every module the config matches: the rank-0 layer must not match.
    assertEquals(List.of(0, 2), config.modules().layersToTransform());
    String json = java.nio.file.Files.readString(dir.resolve(PeftLoraConfig.FILE_NAME));
    assertTrue(json.contains("\"layers_pattern\" : \"layers\""), json);
    for (int l = 0; l < PRUNED.nLayers(); l++) {
      for (LoraTarget t : LoraTarget.values()) {
        assertEquals(l != 1, config.targets(t.modulePath(l)), t.modulePath(l));
      }
    }
    // Adapters that are not every target on every adapted layer: a pattern naming each module.
    List<Map<LoraTarget, LoraAdapter>> uneven = new ArrayList<>();
    LoraAdapters all = allTargets(44);
    uneven.add(Map.of(LoraTarget.Q, all.get(0, LoraTarget.Q)));
    uneven.add(Map.of());
    uneven.add(Map.of(LoraTarget.Q, all.get(2, LoraTarget.Q), LoraTarget.DOWN, all.get(2, LoraTarget.DOWN)));
    Path other = dir.resolve("uneven");
    PeftAdapters.write(LoraAdapters.of(uneven, 0), PRUNED, other, "pruned-model", SafetensorsDType.F32, Map.of());
    PeftLoraConfig read = PeftLoraConfig.read(other.resolve(PeftLoraConfig.FILE_NAME));
    assertTrue(read.targetModules().isEmpty());
    // Python's re (PEFT's) has no \Q...\E: the pattern escapes each dot.
    assertEquals("(model\\.layers\\.0\\.self_attn\\.q_proj|model\\.layers\\.2\\.self_attn\\.q_proj"
        + "|model\\.layers\\.2\\.mlp\\.down_proj)", read.modules().regex());
    for (int l = 0; l < PRUNED.nLayers(); l++) {
      for (LoraTarget t : LoraTarget.values()) {
        boolean held = (l == 0 && t == LoraTarget.Q)
            || (l == 2 && (t == LoraTarget.Q || t == LoraTarget.DOWN));
        assertEquals(held, read.targets(t.modulePath(l)), t.modulePath(l));
      }
    }
    assertEquals(3, PeftAdapters.read(other, PRUNED, DataType.FLOAT).layer(2).size()
        + PeftAdapters.read(other, PRUNED, DataType.FLOAT).layer(0).size());
  }

  /**
   * What the README's Python recipe relies on to load a pruned model and its adapter: config.json's
   * hidden_size, head_dim and per-layer shapes give every projection's width, the weights are named as
   * transformers names them with those shapes, and every adapter factor fits them.
   */
  @Test
  void aPrunedModelsConfigDescribesEveryShapeItsWeightsAndAdaptersHave() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 47, DataType.FLOAT);
    Path modelDir = dir.resolve("pruned");
    LlamaCheckpoints.save(model, modelDir, Map.of());
    PeftAdapters.write(allTargets(48), PRUNED, dir.resolve("lora"), "pruned", SafetensorsDType.F32, Map.of());
    PeftAdapters.writeAdaLora(adaLoraAdapters(49), PRUNED, dir.resolve("adalora"), "pruned",
        new PeftAdaLoraAdapter.Schedule(4, 2, 0, 0, 1, 0.85, 0.85, 0.5, 8), SafetensorsDType.F32, Map.of());
    com.fasterxml.jackson.databind.JsonNode config = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(modelDir.resolve("config.json").toFile());
    int d = config.get("hidden_size").asInt();
    int h = config.get("head_dim").asInt();
    com.fasterxml.jackson.databind.JsonNode shapes = config.get("rankadaptor_layer_shapes");
    assertEquals(PRUNED.nLayers(), shapes.size());
    try (SafetensorsFile weights = SafetensorsFile.open(modelDir.resolve("model.safetensors"));
        SafetensorsFile lora = SafetensorsFile.open(dir.resolve("lora").resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME));
        SafetensorsFile adaLora = SafetensorsFile.open(dir.resolve("adalora").resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME))) {
      for (int l = 0; l < PRUNED.nLayers(); l++) {
        com.fasterxml.jackson.databind.JsonNode s = shapes.get(l);
        long q = (long) s.get("num_attention_heads").asInt() * h;
        long kv = (long) s.get("num_key_value_heads").asInt() * h;
        long ffn = s.get("intermediate_size").asLong();
        Map<String, long[]> expected = Map.of(
            "self_attn.q_proj", new long[] {q, d}, "self_attn.k_proj", new long[] {kv, d},
            "self_attn.v_proj", new long[] {kv, d}, "self_attn.o_proj", new long[] {d, q},
            "mlp.gate_proj", new long[] {ffn, d}, "mlp.up_proj", new long[] {ffn, d}, "mlp.down_proj", new long[] {d, ffn});
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
          String module = "model.layers." + l + "." + e.getKey();
          long out = e.getValue()[0];
          long in = e.getValue()[1];
          assertArrayEquals(e.getValue(), weights.info(module + ".weight").shape(), module);
          if (l != 1) {
            assertEquals(in, lora.info("base_model.model." + module + ".lora_A.weight").shape()[1], module);
            assertEquals(out, lora.info("base_model.model." + module + ".lora_B.weight").shape()[0], module);
            assertEquals(in, adaLora.info("base_model.model." + module + ".lora_A").shape()[1], module);
            assertEquals(out, adaLora.info("base_model.model." + module + ".lora_B").shape()[0], module);
          }
        }
      }
    }
  }

  @Test
  void theWeightsFileGetsTheSamePermissionsAsTheConfig() throws IOException {
    PeftAdapters.write(allTargets(45), PRUNED, dir, "pruned-model", SafetensorsDType.F32, Map.of());
    var config = java.nio.file.Files.getPosixFilePermissions(dir.resolve(PeftLoraConfig.FILE_NAME));
    var weights = java.nio.file.Files.getPosixFilePermissions(dir.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME));
    var plain = java.nio.file.Files.getPosixFilePermissions(
        java.nio.file.Files.writeString(dir.resolve("plain.txt"), "x"));
    assertEquals(plain, weights, "as a file written the ordinary way (the umask decides)");
    assertEquals(plain, config);
  }

  /** AdaLoRA adapters with init_r 4 on layers 0 and 2, random triplets and masks, one module with none kept. */
  private static AdaLoraAdapters adaLoraAdapters(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Map<LoraTarget, SvdAdapter>> layers = new ArrayList<>();
    for (int l = 0; l < PRUNED.nLayers(); l++) {
      Map<LoraTarget, SvdAdapter> layer = new EnumMap<>(LoraTarget.class);
      if (l != 1) {
        for (LoraTarget t : LoraTarget.values()) {
          int in = PRUNED.layer(l).inFeatures(t, PRUNED.dim());
          int out = PRUNED.layer(l).outFeatures(t, PRUNED.dim());
          boolean[] kept = new boolean[4];
          for (int i = 0; i < 4; i++) {
            kept[i] = !(l == 2 && t == LoraTarget.V) && random.nextBoolean();
          }
          layer.put(t, new SvdAdapter(randomFloats(random, out, 4), randomFloats(random, 4, 1),
              randomFloats(random, 4, in), kept, 16 / (4 + 1e-5)));
        }
      }
      layers.add(layer);
    }
    return AdaLoraAdapters.of(layers, 0.05);
  }

  private static org.nd4j.linalg.api.ndarray.INDArray randomFloats(SplittableRandom random, int rows, int columns) {
    double[] v = new double[rows * columns];
    for (int i = 0; i < v.length; i++) {
      v[i] = 2 * random.nextDouble() - 1;
    }
    return Nd4j.create(v, new long[] {rows, columns}, DataType.DOUBLE).castTo(DataType.FLOAT);
  }

  @Test
  void adaLoraAdaptersRoundTripThroughPeftsAdaLoraFormat() throws IOException {
    AdaLoraAdapters adapters = adaLoraAdapters(46);
    PeftAdaLoraAdapter.Schedule schedule = new PeftAdaLoraAdapter.Schedule(4, 2, 3, 5, 1, 0.85, 0.85, 0.5, 24);
    PeftAdapters.writeAdaLora(adapters, PRUNED, dir, "pruned-model", schedule, SafetensorsDType.F32, Map.of());

    com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(dir.resolve(PeftLoraConfig.FILE_NAME).toFile());
    assertEquals("ADALORA", json.get("peft_type").asText());
    assertEquals(4, json.get("init_r").asInt());
    assertEquals(2, json.get("target_r").asInt());
    assertEquals(16, json.get("lora_alpha").asInt(), "alpha = scaling x (init_r + 1e-5), snapped to its integer");
    assertEquals(24, json.get("total_step").asInt());
    assertEquals("[0,2]", json.get("layers_to_transform").toString());
    com.fasterxml.jackson.databind.JsonNode mask = json.get("rank_pattern").get("model.layers.2.self_attn.q_proj.lora_E");
    assertEquals(4, mask.size());
    boolean[] expectedMask = adapters.layer(2).get(LoraTarget.Q).kept();
    for (int i = 0; i < 4; i++) {
      assertEquals(expectedMask[i], mask.get(i).asBoolean());
    }
    try (SafetensorsFile weights = SafetensorsFile.open(dir.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME))) {
      int kept = adapters.layer(0).get(LoraTarget.UP).rank();
      String up = "base_model.model.model.layers.0.mlp.up_proj.";
      assertArrayEquals(new long[] {kept, PRUNED.dim()}, weights.info(up + "lora_A").shape());
      assertArrayEquals(new long[] {kept, 1}, weights.info(up + "lora_E").shape());
      assertArrayEquals(new long[] {PRUNED.layer(0).hiddenDim(), kept}, weights.info(up + "lora_B").shape());
      assertArrayEquals(new long[] {0, PRUNED.dim()},
          weights.info("base_model.model.model.layers.2.self_attn.v_proj.lora_A").shape(), "nothing kept: zero rows");
      assertEquals(3 * 14, weights.tensorNames().size());
    }

    AdaLoraAdapters reread = PeftAdapters.readAdaLora(dir, PRUNED, DataType.FLOAT);
    assertEquals(adapters.keptTriplets(), reread.keptTriplets());
    LoraAdapters before = adapters.toLora();
    LoraAdapters after = reread.toLora();
    for (int l = 0; l < PRUNED.nLayers(); l++) {
      assertEquals(before.layer(l).keySet(), after.layer(l).keySet());
      for (LoraTarget t : before.layer(l).keySet()) {
        assertArrayEquals(adapters.layer(l).get(t).kept(), reread.layer(l).get(t).kept());
        LoraAdapter x = before.get(l, t);
        LoraAdapter y = after.get(l, t);
        assertTrue(x.b().mmul(x.a()).muli(x.scaling()).equalsWithEps(y.b().mmul(y.a()).muli(y.scaling()), 1e-5),
            "layer " + l + " " + t + ": the same update after the round trip");
      }
    }
  }

  @Test
  void exportedAdapterReimportsIdentically() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 41, DataType.FLOAT);
    LoraAdapters adapters = allTargets(42);
    PeftAdapters.write(adapters, PRUNED, dir, "pruned-model", SafetensorsDType.F32, Map.of("seed", "42"));

    PeftLoraConfig config = PeftLoraConfig.read(dir.resolve(PeftLoraConfig.FILE_NAME));
    assertEquals(7, config.targetModules().size());
    assertEquals(2, config.rankFor("model.layers.0.mlp.up_proj"));
    assertEquals(3, config.rankFor("model.layers.2.self_attn.k_proj"));
    assertEquals(16.0, config.alphaFor("model.layers.0.self_attn.q_proj"));
    assertEquals(6.0, config.alphaFor("model.layers.2.mlp.down_proj"));
    assertEquals(0.05, config.loraDropout());
    PeftLoraAdapter peft = PeftLoraAdapter.read(dir);
    assertEquals(14, peft.modules().size(), "7 targets on layers 0 and 2, none on the rank-0 layer");
    assertTrue(peft.modules().stream().noneMatch(m -> m.layer() == 1));

    LoraAdapters reread = PeftAdapters.read(dir, PRUNED, DataType.FLOAT);
    assertEquals(adapters.dropout(), reread.dropout());
    assertEquals(0, reread.layer(1).size());
    for (int l = 0; l < PRUNED.nLayers(); l++) {
      for (Map.Entry<LoraTarget, LoraAdapter> e : adapters.layer(l).entrySet()) {
        LoraAdapter back = reread.get(l, e.getKey());
        assertEquals(e.getValue().scaling(), back.scaling());
        assertArrayEquals(floats(e.getValue().a()), floats(back.a()));
        assertArrayEquals(floats(e.getValue().b()), floats(back.b()), "layer " + l + " " + e.getKey());
      }
    }
    assertArrayEquals(floats(model.logits(TOKENS, adapters)), floats(model.logits(TOKENS, reread)));
  }

  @Test
  void savedModelWithExportedAdapterGivesTheInMemoryLogits() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 43, DataType.FLOAT);
    LoraAdapters adapters = allTargets(44);
    LlamaCheckpoints.save(model, dir.resolve("model"), Map.of());
    PeftAdapters.write(adapters, PRUNED, dir.resolve("adapter"), "model", SafetensorsDType.F32, Map.of());

    LlamaModel reloaded = LlamaCheckpoints.load(dir.resolve("model"), DataType.FLOAT);
    LoraAdapters reread = PeftAdapters.read(dir.resolve("adapter"), reloaded.config(), DataType.FLOAT);
    float[] inMemory = floats(model.logits(TOKENS, adapters));
    assertArrayEquals(inMemory, floats(reloaded.logits(TOKENS, reread)));
    float[] base = floats(model.logits(TOKENS, null));
    double change = 0;
    for (int i = 0; i < base.length; i++) {
      change = Math.max(change, Math.abs(base[i] - inMemory[i]));
    }
    assertTrue(change > 1e-2, "the adapter must change the logits, max change " + change);
  }

  /**
   * In the files, base q/k rows and the adapter's B rows share one order: the saved merged model's
   * {@code q_proj} equals the saved base {@code q_proj} plus scaling x B A from the adapter file, row for
   * row, as PEFT computes it on a Hugging Face model.
   */
  @Test
  void exportedUpdateLinesUpWithSavedBaseRows() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 45, DataType.FLOAT);
    LoraAdapters adapters = allTargets(46);
    LlamaCheckpoints.save(model, dir.resolve("base"), Map.of());
    LlamaCheckpoints.save(LoraMerge.merge(model, adapters), dir.resolve("merged"), Map.of());
    PeftAdapters.write(adapters, PRUNED, dir.resolve("adapter"), "base", SafetensorsDType.F32, Map.of());
    try (SafetensorsFile base = SafetensorsFile.open(dir.resolve("base/model.safetensors"));
        SafetensorsFile merged = SafetensorsFile.open(dir.resolve("merged/model.safetensors"));
        SafetensorsFile lora = SafetensorsFile.open(dir.resolve("adapter/adapter_model.safetensors"))) {
      for (String module : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.o_proj")) {
        String name = "model.layers.2." + module;
        float[] w = base.readFloats(name + ".weight");
        float[] expected = merged.readFloats(name + ".weight");
        float[] a = lora.readFloats("base_model.model." + name + ".lora_A.weight");
        float[] b = lora.readFloats("base_model.model." + name + ".lora_B.weight");
        int rank = 3;
        int in = a.length / rank;
        int out = b.length / rank;
        double scaling = 6.0 / rank;
        for (int r = 0; r < out; r++) {
          for (int c = 0; c < in; c++) {
            double update = 0;
            for (int k = 0; k < rank; k++) {
              update += b[r * rank + k] * (double) a[k * in + c];
            }
            assertEquals(expected[r * in + c], w[r * in + c] + scaling * update, 1e-5, name + " row " + r);
          }
        }
      }
    }
  }

  @Test
  void someTargetsAndNonIntegralAlphasRoundTrip() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 47, DataType.FLOAT);
    LoraAdapters adapters = trainedLookingAdapters(PRUNED, new int[] {1, 4, 0}, new double[] {2.5, 7, 0},
        EnumSet.of(LoraTarget.K, LoraTarget.DOWN), 48, DataType.FLOAT);
    PeftAdapters.write(adapters, PRUNED, dir, "m", SafetensorsDType.F32, Map.of());
    assertEquals(List.of("k_proj", "down_proj"), PeftLoraConfig.read(dir.resolve(PeftLoraConfig.FILE_NAME)).targetModules());
    LoraAdapters reread = PeftAdapters.read(dir, PRUNED, DataType.FLOAT);
    assertEquals(Set.of(LoraTarget.K, LoraTarget.DOWN), reread.layer(1).keySet());
    assertEquals(2.5, reread.get(0, LoraTarget.K).scaling());
    assertArrayEquals(floats(model.logits(TOKENS, adapters)), floats(model.logits(TOKENS, reread)));
  }

  @Test
  void adaptersThatDoNotFitAreRejectedByName() throws IOException {
    PeftAdapters.write(allTargets(49), PRUNED, dir, "m", SafetensorsDType.F32, Map.of());
    LlamaConfig otherWidths = PRUNED.withLayers(List.of(
        new LayerShape(4, 2, 4, 10), new LayerShape(2, 1, 4, 7), new LayerShape(3, 3, 4, 8)));
    FileFormatException wrongWidth =
        assertThrows(FileFormatException.class, () -> PeftAdapters.read(dir, otherWidths, DataType.FLOAT));
    assertTrue(wrongWidth.getMessage().contains("model.layers.2.mlp.gate_proj"), wrongWidth.getMessage());

    LlamaConfig fewerLayers = PRUNED.withLayers(PRUNED.layers().subList(0, 2));
    FileFormatException tooDeep =
        assertThrows(FileFormatException.class, () -> PeftAdapters.read(dir, fewerLayers, DataType.FLOAT));
    assertTrue(tooDeep.getMessage().contains("model.layers.2."), tooDeep.getMessage());

    LoraAdapters none = LoraAdapters.init(PRUNED, new int[] {0, 0, 0}, 8, 1, DataType.FLOAT);
    assertThrows(IllegalArgumentException.class, () -> PeftAdapters.toPeft(none, PRUNED, "m"));
    assertThrows(IllegalArgumentException.class, () -> PeftAdapters.toPeft(allTargets(50), fewerLayers, "m"));
  }
}
