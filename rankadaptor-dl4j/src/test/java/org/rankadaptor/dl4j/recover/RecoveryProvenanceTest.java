package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The recovery's provenance record: its JSON round trip, and the strings derived from it that observation
 * stores match earlier measurements by. Those strings are pinned here to lines of the stores committed
 * under {@code docs/} (written before the record existed), so that a resumed experiment keeps reusing
 * them: a change that breaks these tests orphans every stored measurement.
 */
class RecoveryProvenanceTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String MODEL = "7f2fbf642217cf9583a2bb477e173d7d4f6588a80ac8210123028e9f31a36fa1";
  private static final String TRAIN = "bf9faff365dec3bbf4545aec267c5c7279af4260be75837cd16da346f17dd3d4";
  private static final String VALIDATION = "b477ab542cfa40156bcf880af7503eedaf7e18bbd06ca7bfe190d44f06f6cc6b";

  private static final String TINY_SETTINGS = "{alpha=2.0*rank, batchSize=8, cutoffLength=64, decay=LINEAR, "
      + "divergenceFactor=10.0, dropout=0.05, epochs=1, evalInterval=8, lr=0.005, maxGradNorm=1.0, maxSteps=24, "
      + "microBatchSize=4, targets=[Q, K, V, O, GATE, UP, DOWN], warmupSteps=3, weightDecay=0.0}";

  @Test
  void thePaperSettingsDescribeThemselvesAsTheyAlwaysDid() {
    assertThat(RecoverySettings.paper().describe()).hasToString("{alpha=2.0*rank, batchSize=64, cutoffLength=256, "
        + "decay=LINEAR, divergenceFactor=10.0, dropout=0.05, epochs=2, evalInterval=200, lr=1.0E-4, maxGradNorm=1.0, "
        + "maxSteps=0, microBatchSize=4, targets=[Q, K, V, O, GATE, UP, DOWN], warmupSteps=100, weightDecay=0.0}");
    assertThat(RecoverySettings.tiny().describe()).hasToString(TINY_SETTINGS);
    RecoverySettings fixedAlpha = RecoverySettings.tiny().withLora(AlphaRule.fixed(16), 0.1,
        EnumSet.of(LoraTarget.Q));
    assertThat(fixedAlpha.describe()).containsEntry("alpha", "16.0").containsEntry("targets", "[Q]")
        .containsEntry("dropout", "0.1");
  }

  @Test
  void everySettingIsDescribedUnderItsFieldNameButTheLearningRate() {
    Map<String, String> described = RecoverySettings.paper().describe();
    TreeMap<String, String> expectedNames = new TreeMap<>();
    Arrays.stream(RecoverySettings.class.getRecordComponents())
        .forEach(c -> expectedNames.put(c.getName().equals("learningRate") ? "lr" : c.getName(), ""));
    assertThat(described.keySet()).isEqualTo(expectedNames.keySet());
  }

  @Test
  void theLoraFingerprintIsTheStoresString() {
    RecoveryProvenance p =
        new RecoveryProvenance("LoraRecoveryRunner", RecoverySettings.tiny(), null, MODEL, TRAIN, VALIDATION);
    // From docs/experiment/width-25/observations.jsonl.
    assertThat(p.fingerprint()).isEqualTo("model:" + MODEL + ";train:" + TRAIN + ",validation:" + VALIDATION
        + ";settings:" + TINY_SETTINGS);
    assertThat(p.dataFingerprint()).isEqualTo("train:" + TRAIN + ",validation:" + VALIDATION);
  }

  @Test
  void theAdaLoraFingerprintIsTheStoresString() {
    String model = "6518d3c35808895d6ed3680184bcdb1b2dec7a273aa2c20ba2c99a9eb13f0093";
    String train = "954ed344f9651f64819974bd57c5dbf0e73fe2aea2ab5a13f2e8a8253c6942f3";
    String validation = "ea3c8358f487bb5d9ad7b87912d734eafa219e111df630f5fa981d0b173c405f";
    RecoveryProvenance p = new RecoveryProvenance("AdaLoraRecoveryRunner", RecoverySettings.tiny(),
        new AdaLoraSettings(12, 8, 2, 7, 1, 0.85, 0.85, 0.5), model, train, validation);
    // From the AdaLoRA lines of the stores under docs/experiment.
    assertThat(p.fingerprint()).isEqualTo("adalora:{beta1=0.85, beta2=0.85, deltaT=1, init_r=12, "
        + "orth_reg_weight=0.5, target_r=8, tfinal=7, tinit=2};model:" + model + ";train:" + train + ",validation:"
        + validation + ";settings:" + TINY_SETTINGS);
  }

  @Test
  void itRoundTripsThroughJsonFieldByField() throws Exception {
    RecoveryProvenance lora = new RecoveryProvenance("LoraRecoveryRunner",
        RecoverySettings.paper().toBuilder().alpha(AlphaRule.fixed(16)).maxSteps(7).build(), null, MODEL, TRAIN,
        VALIDATION);
    RecoveryProvenance adaLora = new RecoveryProvenance("AdaLoraRecoveryRunner", RecoverySettings.tiny(),
        AdaLoraSettings.defaults(24), MODEL, TRAIN, VALIDATION);
    for (RecoveryProvenance p : new RecoveryProvenance[] {lora, adaLora}) {
      String json = JSON.writeValueAsString(p);
      assertThat(JSON.readValue(json, RecoveryProvenance.class)).isEqualTo(p);
      assertThat(JSON.readValue(json, RecoveryProvenance.class).fingerprint()).isEqualTo(p.fingerprint());
    }
    JsonNode tree = JSON.valueToTree(lora);
    // The settings by their own names, not the fingerprint's short ones; no derived strings.
    assertThat(tree.path("settings").path("learningRate").asDouble()).isEqualTo(1e-4);
    assertThat(tree.path("settings").path("maxSteps").asInt()).isEqualTo(7);
    assertThat(tree.path("settings").path("alpha").path("proportional").asBoolean(true)).isFalse();
    assertThat(tree.path("settings").has("lr")).isFalse();
    assertThat(tree.has("fingerprint")).isFalse();
    assertThat(tree.has("dataFingerprint")).isFalse();
    assertThat(JSON.valueToTree(adaLora).path("adaLora").path("initR").asInt()).isEqualTo(12);
  }
}
