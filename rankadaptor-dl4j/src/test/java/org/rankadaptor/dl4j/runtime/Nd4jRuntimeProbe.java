package org.rankadaptor.dl4j.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;

/**
 * Run in a fresh JVM by {@link Nd4jRuntimeTest}: initialises the runtime, optionally after touching
 * ND4J first (argument {@code nd4j-first}) or after using the performance model first ({@code mlp-first}),
 * and prints the report as one JSON line after
 * {@link #MARKER}.
 */
public final class Nd4jRuntimeProbe {

  static final String MARKER = "ND4J-RUNTIME-REPORT ";

  private Nd4jRuntimeProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("nd4j-first")) {
      Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
    }
    if (args.length > 0 && args[0].equals("mlp-first")) {
      // An entry point of the module, used before anything else: it must set the runtime up itself.
      new MlpPerformanceModel(RankSpace.builder(4).build()).predict(List.of(RankConfig.of(2, 4, 6, 8)));
    }
    Nd4jRuntime.Report report = Nd4jRuntime.ensureInitialized();
    System.out.println(MARKER + new ObjectMapper().writeValueAsString(report));
  }
}
