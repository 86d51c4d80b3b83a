package org.rankadaptor.dl4j.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** A pruned stories260K model saved as a Hugging Face folder and reloaded scores identically. */
class PrunedCheckpointTest {
  @TempDir Path dir;

  private static LlamaModel model;
  private static Llama2cTokenizer tokenizer;
  private static String text;
  private static int[][] probe;

  @BeforeAll
  static void load() throws IOException {
    model = LlamaCheckpoints.fromLlama2c(
        Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")), DataType.FLOAT);
    tokenizer = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"));
    text = Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    int[] tokens = tokenizer.encode(text.substring(text.length() / 2), true, false);
    probe = new int[][] {java.util.Arrays.copyOf(tokens, 96), java.util.Arrays.copyOfRange(tokens, 96, 160)};
  }

  @Test
  void widthPrunedModelReloadsWithItsShapesAndIdenticalLogits() throws IOException {
    CalibrationSet calibration = CalibrationSet.builder(text, tokenizer)
        .samples(CalibrationSet.DEFAULT_SAMPLES).length(CalibrationSet.WIDTH_SAMPLE_LENGTH).seed(5).build();
    WidthPruningResult pruned = WidthPruner.prune(model, calibration, WidthPruningSettings.llmPruner(1, 3, 0.2));
    assertThat(pruned.model().config().layers()).as("layers 1..3 are narrower")
        .isNotEqualTo(model.config().layers());
    assertSavedAndReloadedIdentically(pruned.model());
  }

  @Test
  void depthPrunedModelReloadsWithIdenticalLogits() throws IOException {
    CalibrationSet calibration = CalibrationSet.builder(text, tokenizer)
        .samples(CalibrationSet.DEFAULT_SAMPLES).length(CalibrationSet.DEPTH_SAMPLE_LENGTH).seed(5).build();
    DepthPruningResult pruned =
        DepthPruner.prune(model, calibration, new DepthPruningSettings(BlockImportance.TAYLOR, 1, 1, 1));
    assertThat(pruned.model().config().nLayers()).isEqualTo(model.config().nLayers() - 1);
    assertSavedAndReloadedIdentically(pruned.model());
  }

  private void assertSavedAndReloadedIdentically(LlamaModel pruned) throws IOException {
    Path folder = dir.resolve("pruned");
    LlamaCheckpoints.save(pruned, folder, Map.of("test", "pruned checkpoint"));
    LlamaModel reloaded = LlamaCheckpoints.load(folder, DataType.FLOAT);
    assertThat(reloaded.config().layers()).containsExactlyElementsOf(pruned.config().layers());
    for (LayerShape shape : reloaded.config().layers()) {
      assertThat(shape.headDim()).isEqualTo(model.config().layer(0).headDim());
    }
    INDArray expected = pruned.logits(probe, null);
    INDArray actual = reloaded.logits(probe, null);
    assertThat(actual.shape()).isEqualTo(expected.shape());
    assertThat(actual.dup('c').data().asFloat()).as("reloaded logits, bit for bit")
        .isEqualTo(expected.dup('c').data().asFloat());
  }
}
