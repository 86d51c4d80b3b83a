package org.rankadaptor.dl4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.FileFormatException;
import org.rankadaptor.dl4j.io.HfLlamaConfig;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.io.SafetensorsFile;
import org.rankadaptor.dl4j.io.SafetensorsSource;
import org.rankadaptor.dl4j.io.SafetensorsTensorInfo;
import org.rankadaptor.dl4j.io.SafetensorsWriter;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** Hugging Face model folders: exact round trips of pruned models, the rotate-half layout, bad files. */
class LlamaCheckpointsTest {

  /** Three layers of different head counts and MLP widths, grouped-query attention, untied classifier. */
  static final LlamaConfig PRUNED = LlamaGradientTest.CONFIG;

  static final int[][] TOKENS = {{1, 5, 7, 3, 18, 2, 9, 14, 0, 11}, {1, 4, 11}};

  @TempDir Path dir;

  static float[] floats(INDArray array) {
    return Nd4j.toFlattened('c', array).toFloatVector();
  }

  static void assertBitwiseEqual(LlamaModel expected, LlamaModel actual) {
    assertArrayEquals(floats(expected.logits(TOKENS, null)), floats(actual.logits(TOKENS, null)));
  }

  @Test
  void prunedModelReloadsBitForBit() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 31, DataType.FLOAT);
    LlamaCheckpoints.save(model, dir, Map.of("rankadaptor.seed", "31"));
    LlamaModel reloaded = LlamaCheckpoints.load(dir, DataType.FLOAT);

    assertEquals(PRUNED, reloaded.config());
    for (int l = 0; l < PRUNED.nLayers(); l++) {
      for (LoraTarget t : LoraTarget.values()) {
        assertArrayEquals(floats(model.weights().layers().get(l).projection(t)),
            floats(reloaded.weights().layers().get(l).projection(t)), "layer " + l + " " + t);
      }
    }
    assertArrayEquals(floats(model.weights().classifier()), floats(reloaded.weights().classifier()));
    assertBitwiseEqual(model, reloaded);
    List<ContinuationRequest> requests = List.of(new ContinuationRequest(new int[] {1, 5}, new int[] {7, 3, 18}));
    assertEquals(model.scoreContinuations(requests, null), reloaded.scoreContinuations(requests, null));

    HfLlamaConfig hf = HfLlamaConfig.read(dir.resolve("config.json"));
    assertTrue(hf.isPruned());
    assertEquals(new HfLlamaConfig.LayerConfig(2, 1, 7), hf.layerConfig(1));
    assertEquals(4, hf.numAttentionHeads(), "global heads are the widest layer's");
    assertEquals(10, hf.intermediateSize());
    try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      assertEquals("31", file.metadata().get("rankadaptor.seed"));
      assertEquals("pt", file.metadata().get("format"));
      assertEquals("rotate_half", file.metadata().get(LlamaCheckpoints.ROPE_LAYOUT_KEY));
      assertTrue(file.contains("lm_head.weight"));
      assertArrayEquals(new long[] {2 * 4, 12}, file.info("model.layers.1.self_attn.q_proj.weight").shape());
      assertArrayEquals(new long[] {12, 7}, file.info("model.layers.1.mlp.down_proj.weight").shape());
    }
  }

  @Test
  void float64ModelReloadsExactlyFromF64() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 32, DataType.DOUBLE);
    LlamaCheckpoints.save(model, dir, SafetensorsDType.F64, Map.of());
    LlamaModel reloaded = LlamaCheckpoints.load(dir, DataType.DOUBLE);
    assertArrayEquals(Nd4j.toFlattened('c', model.logits(TOKENS, null)).toDoubleVector(),
        Nd4j.toFlattened('c', reloaded.logits(TOKENS, null)).toDoubleVector());
  }

  @Test
  void uniformTiedModelWritesAPlainConfigAndNoClassifier() throws IOException {
    LlamaConfig uniform = LlamaConfig.uniform(16, 2, 4, 2, 24, 21, 32, true);
    LlamaModel model = LlamaModel.randomInit(uniform, 5, DataType.FLOAT);
    LlamaCheckpoints.save(model, dir, Map.of());
    HfLlamaConfig hf = HfLlamaConfig.read(dir.resolve("config.json"));
    assertFalse(hf.isPruned(), "equal layers need no per-layer shapes");
    assertTrue(hf.tieWordEmbeddings());
    try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      assertFalse(file.contains("lm_head.weight"));
      assertEquals(1 + 1 + 2 * 9, file.tensorNames().size());
    }
    LlamaModel reloaded = LlamaCheckpoints.load(dir, DataType.FLOAT);
    assertEquals(uniform, reloaded.config());
    assertSame(reloaded.weights().tokenEmbedding(), reloaded.weights().classifier());
    assertBitwiseEqual(model, reloaded);
  }

  /**
   * The saved q/k rows, rotated the Hugging Face way (pairs (i, i + headDim/2)), give the same
   * query-key dot products as the model's rows rotated the interleaved way: the layout is what
   * {@code transformers} expects, checked independently of {@link RotaryLayout}.
   */
  @Test
  void savedQueryKeyRowsFollowTheRotateHalfConvention() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 33, DataType.DOUBLE);
    LlamaCheckpoints.save(model, dir, SafetensorsDType.F64, Map.of());
    int layer = 0;
    LayerShape s = PRUNED.layer(layer);
    double[] x = new double[PRUNED.dim()];
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.sin(1.7 * i + 0.3);
    }
    try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      double[] qHf = project(file.readDoubles("model.layers.0.self_attn.q_proj.weight"), x);
      double[] kHf = project(file.readDoubles("model.layers.0.self_attn.k_proj.weight"), x);
      double[] q = project(Nd4j.toFlattened('c', model.weights().layers().get(layer).wq()).toDoubleVector(), x);
      double[] k = project(Nd4j.toFlattened('c', model.weights().layers().get(layer).wk()).toDoubleVector(), x);
      int hd = s.headDim();
      for (int h = 0; h < s.nHeads(); h++) {
        int kvHead = h / s.groupSize();
        double hfDot = dot(rope(qHf, h * hd, hd, 5, true), rope(kHf, kvHead * hd, hd, 2, true));
        double dot = dot(rope(q, h * hd, hd, 5, false), rope(k, kvHead * hd, hd, 2, false));
        assertEquals(dot, hfDot, 1e-12, "head " + h);
      }
    }
  }

  private static double[] project(double[] rowMajor, double[] x) {
    double[] y = new double[rowMajor.length / x.length];
    for (int r = 0; r < y.length; r++) {
      for (int c = 0; c < x.length; c++) {
        y[r] += rowMajor[r * x.length + c] * x[c];
      }
    }
    return y;
  }

  /** One head of {@code v} rotated for position {@code pos}, pairs interleaved or half apart. */
  private static double[] rope(double[] v, int offset, int headDim, int pos, boolean rotateHalf) {
    double[] out = new double[headDim];
    for (int i = 0; i < headDim / 2; i++) {
      double angle = pos * Math.pow(10000.0, -2.0 * i / headDim);
      int a = rotateHalf ? i : 2 * i;
      int b = rotateHalf ? i + headDim / 2 : 2 * i + 1;
      out[a] = v[offset + a] * Math.cos(angle) - v[offset + b] * Math.sin(angle);
      out[b] = v[offset + a] * Math.sin(angle) + v[offset + b] * Math.cos(angle);
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }

  @Test
  void stories260KFromLlama2cSavesAndReloadsWithIdenticalLogits() throws IOException {
    LlamaModel original = LlamaCheckpoints.fromLlama2c(
        Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")), DataType.FLOAT);
    LlamaCheckpoints.save(original, dir, Map.of("source", "stories260K.bin"));
    LlamaModel reloaded = LlamaCheckpoints.load(dir, DataType.FLOAT);
    assertEquals(original.config(), reloaded.config());
    int[][] story = {{1, 403, 407, 261, 378, 300, 425, 260, 258, 429, 394, 271, 280, 342}};
    assertArrayEquals(floats(original.logits(story, null)), floats(reloaded.logits(story, null)));
  }

  @Test
  void shardedCheckpointLoadsLikeTheSingleFile() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 34, DataType.FLOAT);
    LlamaCheckpoints.save(model, dir, Map.of());
    Path single = dir.resolve(SafetensorsSource.SINGLE_FILE_NAME);
    StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
    SafetensorsWriter first = new SafetensorsWriter().metadata(SafetensorsWriter.PYTORCH_FORMAT);
    SafetensorsWriter second = new SafetensorsWriter().metadata(SafetensorsWriter.PYTORCH_FORMAT);
    try (SafetensorsFile file = SafetensorsFile.open(single)) {
      String separator = "";
      for (SafetensorsTensorInfo info : file.infos()) {
        boolean early = info.name().startsWith("model.layers.0.") || info.name().startsWith("model.embed");
        (early ? first : second).add(info.name(), file.readFloats(info.name()), info.shape());
        String shard = early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        index.append(separator).append('"').append(info.name()).append("\": \"").append(shard).append('"');
        separator = ", ";
      }
    }
    first.write(dir.resolve("model-00001-of-00002.safetensors"));
    second.write(dir.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(dir.resolve(SafetensorsSource.INDEX_FILE_NAME), index.append("}}").toString(),
        StandardCharsets.UTF_8);
    Files.delete(single);
    assertBitwiseEqual(model, LlamaCheckpoints.load(dir, DataType.FLOAT));
  }

  @Test
  void halfPrecisionWeightsLoadRoundedAndCloseToFloat() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 35, DataType.FLOAT);
    for (SafetensorsDType storage : List.of(SafetensorsDType.F16, SafetensorsDType.BF16)) {
      Path folder = dir.resolve(storage.name());
      LlamaCheckpoints.save(model, folder, storage, Map.of());
      try (SafetensorsFile file = SafetensorsFile.open(folder.resolve("model.safetensors"))) {
        assertEquals(storage, file.info("model.embed_tokens.weight").dtype());
      }
      LlamaModel reloaded = LlamaCheckpoints.load(folder, DataType.FLOAT);
      // F16 keeps 11 significant bits, BF16 8: relative rounding error at most 2^-11 or 2^-8
      double relative = storage == SafetensorsDType.F16 ? 0x1p-11 : 0x1p-8;
      float[] before = floats(model.weights().layers().get(2).wq());
      float[] after = floats(reloaded.weights().layers().get(2).wq());
      boolean anyRounded = false;
      for (int i = 0; i < before.length; i++) {
        assertEquals(before[i], after[i], Math.abs(before[i]) * relative + 1e-7, storage + " element " + i);
        anyRounded |= before[i] != after[i];
      }
      assertTrue(anyRounded, storage + " must actually narrow the weights");
      float[] expected = floats(model.logits(TOKENS, null));
      float[] actual = floats(reloaded.logits(TOKENS, null));
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], actual[i], storage == SafetensorsDType.F16 ? 0.01 : 0.1);
      }
    }
  }

  /** Rewrites the saved model file, letting {@code edit} drop (null) or replace each tensor's data. */
  private void rewrite(BiFunction<SafetensorsTensorInfo, float[], float[]> edit, String reshapedName,
      long[] newShape) throws IOException {
    Path file = dir.resolve("model.safetensors");
    SafetensorsWriter writer = new SafetensorsWriter();
    try (SafetensorsFile old = SafetensorsFile.open(file)) {
      for (SafetensorsTensorInfo info : old.infos()) {
        float[] data = edit.apply(info, old.readFloats(info.name()));
        if (data != null) {
          writer.add(info.name(), data, info.name().equals(reshapedName) ? newShape : info.shape());
        }
      }
    }
    writer.write(file);
  }

  @Test
  void missingOrMisshapenTensorsAreNamed() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 36, DataType.FLOAT);
    LlamaCheckpoints.save(model, dir, Map.of());
    String gate = "model.layers.2.mlp.gate_proj.weight";
    rewrite((info, data) -> info.name().equals(gate) ? null : data, null, null);
    FileFormatException missing =
        assertThrows(FileFormatException.class, () -> LlamaCheckpoints.load(dir, DataType.FLOAT));
    assertEquals(gate, missing.item().orElseThrow());
    assertTrue(missing.getMessage().contains("model.safetensors") && missing.getMessage().contains("missing"),
        missing.getMessage());

    LlamaCheckpoints.save(model, dir, Map.of());
    String down = "model.layers.1.mlp.down_proj.weight";
    rewrite((info, data) -> data, down, new long[] {7, 12});
    FileFormatException misshapen =
        assertThrows(FileFormatException.class, () -> LlamaCheckpoints.load(dir, DataType.FLOAT));
    assertEquals(down, misshapen.item().orElseThrow());
    assertTrue(misshapen.getMessage().contains("[7, 12]") && misshapen.getMessage().contains("[12, 7]"),
        misshapen.getMessage());

    LlamaCheckpoints.save(model, dir, Map.of());
    rewrite((info, data) -> info.name().equals("lm_head.weight") ? null : data, null, null);
    FileFormatException noClassifier =
        assertThrows(FileFormatException.class, () -> LlamaCheckpoints.load(dir, DataType.FLOAT));
    assertEquals("lm_head.weight", noClassifier.item().orElseThrow());
  }

  @Test
  void nonFiniteWeightsAreRefusedAtLoadNamingTheTensor() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 38, DataType.FLOAT);
    model.weights().layers().get(1).up().putScalar(3, 2, Float.POSITIVE_INFINITY);
    LlamaCheckpoints.save(model, dir, Map.of());
    FileFormatException e = assertThrows(FileFormatException.class, () -> LlamaCheckpoints.load(dir, DataType.FLOAT));
    assertEquals("model.layers.1.mlp.up_proj.weight", e.item().orElseThrow());
    assertTrue(e.getMessage().contains("Infinity") && e.getMessage().contains("finite"), e.getMessage());
  }

  @Test
  void configsThatCannotBeHonouredAreRejected() throws IOException {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 37, DataType.FLOAT);
    LlamaCheckpoints.save(model, dir, Map.of());
    Path config = dir.resolve("config.json");
    Files.writeString(config, Files.readString(config)
        .replace("\"max_position_embeddings\" : 16", "\"max_position_embeddings\" : 2000000000"));
    FileFormatException tooLong =
        assertThrows(FileFormatException.class, () -> LlamaCheckpoints.load(dir, DataType.FLOAT));
    assertEquals("max_position_embeddings", tooLong.item().orElseThrow());

    LlamaConfig mixedHeadWidths = new LlamaConfig(12, 19, 1e-5, 10000.0, false, 16,
        List.of(new LayerShape(3, 3, 4, 10), new LayerShape(2, 2, 6, 10)));
    LlamaModel mixed = LlamaModel.randomInit(mixedHeadWidths, 1, DataType.FLOAT);
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> LlamaCheckpoints.save(mixed, dir.resolve("mixed"), Map.of()));
    assertTrue(error.getMessage().contains("head_dim"), error.getMessage());
  }
}
