package org.rankadaptor.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.predictor.PredictorProvenance;
import org.rankadaptor.dl4j.recover.AdaLoraSettings;
import org.rankadaptor.dl4j.recover.RecoveryProvenance;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.runtime.EnvironmentProvenance;

/**
 * A run's provenance written to its folder and read back equal (Tribuo's provenance marshalling test,
 * for {@code provenance.json}), with the components' own records inside it.
 */
class RunFolderTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static RunProvenance provenance(RecoveryProvenance recovery, PredictorProvenance predictor,
      JsonNode pruning) {
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put("wikitext2", "cecc87");
    sources.put("alpaca", "d56462");
    Map<String, RunProvenance.HeldOutTask> heldOut = new LinkedHashMap<>();
    heldOut.put("tinystories-test", new RunProvenance.HeldOutTask("12b5bb", List.of(142L, 143L)));
    heldOut.put("piqa", new RunProvenance.HeldOutTask("a1665c", List.of(142L)));
    String storeKey = recovery == null ? "custom runner" : recovery.fingerprint();
    return new RunProvenance(
        new Provenance(42, storeKey, "1e066a", Map.of("maxEvaluations", "12", "strategy", "rankadaptor")),
        "tinystories-valid", "1e066a", sources, heldOut, List.of(142L, 143L), List.of("8,2,4,8,8", "8,8,2,8,8"),
        4, 42, recovery, predictor, 7, "runs/observations.jsonl", EnvironmentProvenance.current(), pruning,
        Map.of("recovery.maxSteps", "24", "model", "stories260K"));
  }

  private static PredictorProvenance mlp() {
    RankSpace space = RankSpace.builder(5).candidates(2, 4, 8).searchLayers(1, 3).build();
    return new MlpPerformanceModel(space, MlpConfig.paper().withEnsembleSize(2).withMeta(100, 16, 0.5).withSeed(9))
        .provenance();
  }

  @Test
  void provenanceRoundTripsThroughItsFile() throws IOException {
    RecoveryProvenance recovery = new RecoveryProvenance("LoraRecoveryRunner", RecoverySettings.tiny(), null,
        "7f2fbf", "bf9faf", "b477ab");
    RunProvenance written = provenance(recovery, mlp(), JSON.readTree("{\"method\":\"llm-pruner-width\",\"ratio\":0.2}"));
    RunFolder folder = RunFolder.at(dir.resolve("run"));
    Path file = folder.writeProvenance(written);
    assertThat(file).isEqualTo(dir.resolve("run").resolve(RunFolder.PROVENANCE_FILE));
    RunProvenance read = folder.readProvenance();
    assertThat(read).isEqualTo(written);
    // Written again, byte for byte the same file: nothing is lost or reordered on the way.
    String text = Files.readString(file);
    folder.writeProvenance(read);
    assertThat(Files.readString(file)).isEqualTo(text);
  }

  @Test
  void aRunWithoutPruningReportOrDescribedRunnerRoundTripsToo() throws IOException {
    RunProvenance written = provenance(null, PredictorProvenance.of(new org.rankadaptor.predictor.BayesianRidgeModel(
        RankSpace.builder(5).candidates(2, 4, 8).searchLayers(1, 3).build())), null);
    RunFolder folder = RunFolder.at(dir);
    folder.writeProvenance(written);
    assertThat(folder.readProvenance()).isEqualTo(written);
    JsonNode json = JSON.readTree(folder.provenanceFile().toFile());
    assertThat(json.path("pruning").isNull()).isTrue();
    assertThat(json.path("recovery").isNull()).isTrue();
    assertThat(json.path("performanceModel").path("model").asText()).isEqualTo("BayesianRidgeModel");
  }

  @Test
  void theFileNamesEveryComponentsSettings() throws IOException {
    RecoveryProvenance recovery = new RecoveryProvenance("AdaLoraRecoveryRunner", RecoverySettings.tiny(),
        AdaLoraSettings.defaults(24), "7f2fbf", "bf9faf", "b477ab");
    RunFolder folder = RunFolder.at(dir);
    folder.writeProvenance(provenance(recovery, mlp(), null));
    JsonNode json = JSON.readTree(folder.provenanceFile().toFile());
    // The predictor's settings, not only its class.
    JsonNode predictor = json.path("performanceModel");
    assertThat(predictor.path("model").asText()).isEqualTo("MlpPerformanceModel");
    assertThat(predictor.path("config").path("metaIterations").asInt()).isEqualTo(100);
    assertThat(predictor.path("config").path("metaInnerSteps").asInt()).isEqualTo(16);
    assertThat(predictor.path("config").path("hidden").toString()).isEqualTo("[32,32,32]");
    assertThat(predictor.path("config").path("seed").asLong()).isEqualTo(9);
    assertThat(predictor.path("memberSeeds")).hasSize(2);
    // The recovery's settings by name, its inputs' fingerprints apart; one fingerprint key, in the search.
    JsonNode rec = json.path("recovery");
    assertThat(rec.path("settings").path("learningRate").asDouble()).isEqualTo(5e-3);
    assertThat(rec.path("adaLora").path("targetR").asInt()).isEqualTo(8);
    assertThat(rec.path("modelFingerprint").asText()).isEqualTo("7f2fbf");
    assertThat(rec.path("trainingDataFingerprint").asText()).isEqualTo("bf9faf");
    assertThat(json.has("recoveryFingerprint")).isFalse();
    assertThat(json.path("search").path("modelFingerprint").asText()).isEqualTo(recovery.fingerprint());
    // Where it ran.
    JsonNode environment = json.path("environment");
    assertThat(environment.path("javaVersion").asText()).isEqualTo(System.getProperty("java.version"));
    assertThat(environment.path("libraryVersion").asText()).isNotBlank().doesNotContain("${");
    assertThat(environment.path("arch").asText()).isEqualTo(System.getProperty("os.arch"));
    assertThat(environment.path("nd4jBackend").asText()).isNotBlank();
    assertThat(environment.path("runtime").path("blasVendor").isMissingNode()).isFalse();
  }
}
