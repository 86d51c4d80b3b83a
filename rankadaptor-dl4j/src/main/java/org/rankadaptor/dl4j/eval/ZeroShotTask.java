package org.rankadaptor.dl4j.eval;

/**
 * The commonsense tasks of the LLM-Pruner / RankAdaptor tables, with the metric those papers report for
 * each: accuracy, or accuracy with log-likelihoods normalised by the choice's length in characters.
 */
public enum ZeroShotTask {
  BOOLQ("boolq", false),
  PIQA("piqa", false),
  HELLASWAG("hellaswag", true),
  WINOGRANDE("winogrande", false),
  ARC_EASY("arc_easy", false),
  ARC_CHALLENGE("arc_challenge", true),
  OPENBOOKQA("openbookqa", true);

  /** Name of the plain accuracy metric. */
  public static final String ACC = "acc";

  /** Name of the length-normalised accuracy metric. */
  public static final String ACC_NORM = "acc_norm";

  private final String id;
  private final boolean reportsNormalised;

  ZeroShotTask(String id, boolean reportsNormalised) {
    this.id = id;
    this.reportsNormalised = reportsNormalised;
  }

  /** The lm-evaluation-harness task name, such as {@code arc_challenge}. */
  public String id() {
    return id;
  }

  /** The metric reported as this task's score: {@link #ACC} or {@link #ACC_NORM}. */
  public String reportedMetric() {
    return reportsNormalised ? ACC_NORM : ACC;
  }
}
