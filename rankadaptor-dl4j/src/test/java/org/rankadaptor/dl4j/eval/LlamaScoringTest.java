package org.rankadaptor.dl4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Evaluation;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** The pretrained stories260K model through the evaluation seams. */
class LlamaScoringTest {

  private static LlamaModel model;
  private static Llama2cTokenizer tokenizer;
  private static String text;
  private static int[] textTokens;

  @BeforeAll
  static void load() throws IOException {
    model = LlamaCheckpoints.fromLlama2c(
        Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")), DataType.FLOAT);
    tokenizer = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"), 512);
    text = Files.readString(
        SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"), StandardCharsets.UTF_8);
    textTokens = tokenizer.encode(text, true, false);
  }

  private static Evaluation perplexity(LlamaScoring scoring, int maxTokens) {
    PerplexityEvaluator.Builder<LlamaScoring> builder =
        PerplexityEvaluator.<LlamaScoring>builder("tinystories", textTokens, s -> s).window(256, 192).batchSize(8);
    return (maxTokens > 0 ? builder.maxTokens(maxTokens) : builder).build().evaluate(scoring);
  }

  @Test
  void tinyStoriesPerplexityIsLowAndUnchangedByAZeroAdapter() {
    Evaluation base = perplexity(LlamaScoring.of(model), 0);
    double ppl = base.metrics().get("ppl");
    assertTrue(base.metrics().get("tokens") > 5000, "the excerpt is several thousand tokens");
    // A uniform guess over the 512 tokens has perplexity 512; the trained model must be far better.
    assertTrue(Double.isFinite(ppl) && ppl > 1 && ppl < 512 / 10.0, "perplexity " + ppl);

    LoraAdapters fresh = LoraAdapters.init(model.config(), new int[] {4, 8, 2, 0, 4}, 16, 7, DataType.FLOAT);
    // the first 2048 tokens keep the suite quick; every logit of every window is compared through the nll
    Evaluation head = perplexity(LlamaScoring.of(model), 2048);
    Evaluation adapted = perplexity(new LlamaScoring(model, fresh, 8), 2048);
    assertEquals(head.metrics().get("nll"), adapted.metrics().get("nll"), 0.0, "B = 0 leaves every logit as is");
  }

  @Test
  void perTokenLogProbsMatchTheIndependentReference() throws IOException {
    JsonNode sequences =
        new ObjectMapper().readTree(SharedFiles.require("reference/stories260K_logits.json").toFile()).get("sequences");
    List<int[]> windows = new ArrayList<>();
    for (JsonNode sequence : sequences) {
      int[] tokens = new int[sequence.get("tokens").size()];
      Arrays.setAll(tokens, i -> sequence.get("tokens").get(i).asInt());
      windows.add(tokens);
    }
    List<double[]> logProbs = LlamaScoring.of(model).logProbs(windows);
    for (int s = 0; s < windows.size(); s++) {
      JsonNode expected = sequences.get(s).get("token_logprobs");
      assertEquals(expected.size(), logProbs.get(s).length);
      for (int i = 0; i < expected.size(); i++) {
        assertEquals(expected.get(i).asDouble(), logProbs.get(s)[i], 1e-3, "sequence " + s + " token " + (i + 1));
      }
    }
  }

  @Test
  void bothSeamsAgreeAndBatchingChangesNothing() {
    int[] story = tokenizer.encode(text.substring(0, 600), true, false);
    List<int[]> windows = List.of(
        Arrays.copyOfRange(story, 0, 40), Arrays.copyOfRange(story, 10, 13), Arrays.copyOfRange(story, 5, 90));
    LoraAdapters adapters = LoraAdapters.init(model.config(), new int[] {2, 2, 2, 2, 2}, 4, 3, DataType.FLOAT);
    LlamaScoring batched = new LlamaScoring(model, adapters, 8);
    LlamaScoring single = new LlamaScoring(model, adapters, 1);
    List<double[]> together = batched.logProbs(windows);
    List<ScoringRequest> requests = new ArrayList<>();
    for (int w = 0; w < windows.size(); w++) {
      double[] alone = single.logProbs(List.of(windows.get(w))).get(0);
      double sum = 0;
      for (int i = 0; i < alone.length; i++) {
        assertEquals(alone[i], together.get(w)[i], 1e-4, "window " + w + " token " + i);
        assertTrue(alone[i] <= 0);
        sum += alone[i];
      }
      int[] window = windows.get(w);
      requests.add(new ScoringRequest(new int[] {window[0]}, Arrays.copyOfRange(window, 1, window.length)));
      double[] likelihood = single.logLikelihoods(List.of(requests.get(w)));
      assertEquals(sum, likelihood[0], 1e-3, "window " + w + ": summed log-probs against continuation score");
    }
    double[] all = batched.logLikelihoods(requests);
    for (int w = 0; w < windows.size(); w++) {
      assertEquals(single.logLikelihoods(List.of(requests.get(w)))[0], all[w], 1e-4);
    }
  }

  @Test
  void rejectsWindowsAndIdsTheModelCannotScore() {
    LlamaScoring scoring = LlamaScoring.of(model);
    assertThrows(IllegalArgumentException.class, () -> scoring.logProbs(List.of(new int[] {1})));
    assertThrows(IllegalArgumentException.class, () -> scoring.logProbs(List.of(new int[] {1, 512})));
    assertThrows(IllegalArgumentException.class, () -> scoring.logProbs(List.of(new int[513])));
    assertThrows(IllegalArgumentException.class,
        () -> scoring.logLikelihoods(List.of(new ScoringRequest(new int[] {1}, new int[] {-3}))));
    LoraAdapters twoLayers = LoraAdapters.init(
        model.config().withLayers(model.config().layers().subList(0, 2)), new int[] {1, 1}, 2, 1, DataType.FLOAT);
    assertThrows(IllegalArgumentException.class, () -> new LlamaScoring(model, twoLayers, 4));
  }
}
