package org.rankadaptor.dl4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Run in a fresh JVM by {@link Nd4jRuntimeTest}: initialises the runtime, optionally after touching
 * ND4J first (argument {@code nd4j-first}), and prints the report as one JSON line after
 * {@link #MARKER}.
 */
public final class Nd4jRuntimeProbe {

  static final String MARKER = "ND4J-RUNTIME-REPORT ";

  private Nd4jRuntimeProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("nd4j-first")) {
      Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
    }
    Nd4jRuntime.Report report = Nd4jRuntime.ensureInitialized();
    System.out.println(MARKER + new ObjectMapper().writeValueAsString(report));
  }
}
