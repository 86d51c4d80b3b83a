package org.rankadaptor.dl4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** The pretrained stories260K model against an independent implementation's logits and text. */
class Stories260KReferenceTest {

  private static LlamaModel model;
  private static JsonNode reference;

  @BeforeAll
  static void load() throws IOException {
    model =
        LlamaCheckpoints.fromLlama2c(
            Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")),
            DataType.FLOAT);
    reference =
        new ObjectMapper().readTree(SharedFiles.require("reference/stories260K_logits.json").toFile());
  }

  private static int[] ints(JsonNode array) {
    int[] values = new int[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = array.get(i).asInt();
    }
    return values;
  }

  /** Compares (T, vocab) logits of one batch row with the reference and returns the largest error. */
  private static double maxLogitError(INDArray logits, int row, JsonNode expected) {
    double worst = 0;
    for (int t = 0; t < expected.size(); t++) {
      for (int v = 0; v < expected.get(t).size(); v++) {
        worst = Math.max(worst, Math.abs(logits.getDouble(row, t, v) - expected.get(t).get(v).asDouble()));
      }
    }
    return worst;
  }

  private static void assertScores(JsonNode sequence, LoraAdapters adapters) {
    int[] tokens = ints(sequence.get("tokens"));
    ContinuationScore score =
        model
            .scoreContinuations(
                List.of(new ContinuationRequest(
                    new int[] {tokens[0]}, Arrays.copyOfRange(tokens, 1, tokens.length))),
                adapters)
            .get(0);
    assertEquals(sequence.get("loglik_total").asDouble(), score.logLikelihood(), 1e-3);
    int[] argmax = ints(sequence.get("argmax_next"));
    boolean allGreedy = true;
    for (int t = 0; t + 1 < tokens.length; t++) {
      allGreedy &= argmax[t] == tokens[t + 1];
    }
    assertEquals(allGreedy, score.greedy());
    // Each token alone: its log-probability and greedy flag.
    for (int t = 1; t < tokens.length; t++) {
      ContinuationScore one =
          model
              .scoreContinuations(
                  List.of(new ContinuationRequest(Arrays.copyOf(tokens, t), new int[] {tokens[t]})),
                  adapters)
              .get(0);
      assertEquals(sequence.get("token_logprobs").get(t - 1).asDouble(), one.logLikelihood(), 1e-3);
      assertEquals(argmax[t - 1] == tokens[t], one.greedy());
    }
  }

  @Test
  void baseModelLogitsMatchReferenceInOnePaddedBatch() {
    JsonNode sequences = reference.get("sequences");
    int[][] batch = new int[sequences.size()][];
    for (int i = 0; i < batch.length; i++) {
      batch[i] = ints(sequences.get(i).get("tokens"));
    }
    INDArray logits = model.logits(batch, null);
    for (int i = 0; i < batch.length; i++) {
      assertTrue(batch[i].length < batch[0].length || i == 0, "second sequence is the padded one");
      double error = maxLogitError(logits, i, sequences.get(i).get("logits"));
      assertTrue(error < 1e-4, "sequence " + i + " max logit error " + error);
      assertScores(sequences.get(i), null);
    }
  }

  @Test
  void loraModelMatchesReferenceFormulaAdapter() {
    JsonNode check = reference.get("lora_check");
    int[] ranks = ints(check.get("ranks"));
    double alpha = check.get("alpha").asDouble();
    // Module order of the reference formula: wq, wk, wv, wo, w1 (gate), w2 (down), w3 (up).
    LoraTarget[] modules = {
      LoraTarget.Q, LoraTarget.K, LoraTarget.V, LoraTarget.O, LoraTarget.GATE, LoraTarget.DOWN,
      LoraTarget.UP
    };
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    LlamaConfig config = model.config();
    for (int l = 0; l < ranks.length; l++) {
      Map<LoraTarget, LoraAdapter> adapters = new EnumMap<>(LoraTarget.class);
      int r = ranks[l];
      for (int m = 0; m < modules.length; m++) {
        int in = config.layer(l).inFeatures(modules[m], config.dim());
        int out = config.layer(l).outFeatures(modules[m], config.dim());
        double[] a = new double[r * in];
        for (int i = 0; i < r; i++) {
          for (int j = 0; j < in; j++) {
            a[i * in + j] = 0.05 * Math.sin(0.37 * (i * in + j) + 1.3 * l + 0.7 * m);
          }
        }
        double[] b = new double[out * r];
        for (int i = 0; i < out; i++) {
          for (int j = 0; j < r; j++) {
            b[i * r + j] = 0.05 * Math.cos(0.23 * (i * r + j) + 0.9 * l + 0.4 * m);
          }
        }
        adapters.put(
            modules[m],
            new LoraAdapter(
                Nd4j.create(a, new long[] {r, in}, DataType.DOUBLE).castTo(DataType.FLOAT),
                Nd4j.create(b, new long[] {out, r}, DataType.DOUBLE).castTo(DataType.FLOAT),
                alpha / r));
      }
      layers.add(adapters);
    }
    LoraAdapters lora = LoraAdapters.of(layers, 0.0);
    JsonNode sequence = check.get("sequence");
    INDArray logits = model.logits(new int[][] {ints(sequence.get("tokens"))}, lora);
    double error = maxLogitError(logits, 0, sequence.get("logits"));
    assertTrue(error < 1e-4, "max logit error with LoRA " + error);
    assertScores(sequence, lora);
    // The adapter must matter, or this test would pass for a model that ignores it.
    assertTrue(
        Math.abs(sequence.get("loglik_total").asDouble()
                - reference.get("sequences").get(0).get("loglik_total").asDouble())
            > 0.1);
  }

  @Test
  void greedyGenerationTellsTheReferenceStory() throws IOException {
    Llama2cTokenizer tokenizer =
        Llama2cTokenizer.read(
            SharedFiles.require("data/models/stories260K/tok512.bin"), model.config().vocabSize());
    int[] prompt = tokenizer.encode("Once upon a time", true, false);
    int[] generated = new LlamaGenerator(model).generate(prompt, GenerationSettings.greedy(40), null);
    int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
    System.arraycopy(generated, 0, all, prompt.length, generated.length);
    String text = tokenizer.decode(all);
    assertTrue(
        text.startsWith(
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the"
                + " park."),
        text);
  }
}
