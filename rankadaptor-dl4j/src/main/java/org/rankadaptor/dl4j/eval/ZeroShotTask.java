package org.rankadaptor.dl4j.eval;

/**
 * The commonsense tasks of the LLM-Pruner / RankAdaptor tables, with the metric those papers report for
 * each: accuracy, or accuracy with log-likelihoods normalised by the choice's length in characters.
 * lm-evaluation-harness defines the normalised accuracy only where choices differ in length: not for
 * BoolQ (yes / no) nor WinoGrande (one shared continuation).
 *
 * @since 0.1.0
 */
public enum ZeroShotTask {
  /** BoolQ: yes/no questions about a passage. */
  BOOLQ("boolq", false, false),
  /** PIQA: physical commonsense, two solutions. */
  PIQA("piqa", true, false),
  /** HellaSwag: the most plausible continuation of a scene. */
  HELLASWAG("hellaswag", true, true),
  /** WinoGrande: pronoun resolution, scored on the sentence after the blank. */
  WINOGRANDE("winogrande", false, false),
  /** ARC, easy set: grade-school science questions. */
  ARC_EASY("arc_easy", true, false),
  /** ARC, challenge set. */
  ARC_CHALLENGE("arc_challenge", true, true),
  /** OpenBookQA: science questions needing a fact and common knowledge. */
  OPENBOOKQA("openbookqa", true, true);

  /** Name of the plain accuracy metric. */
  public static final String ACC = "acc";

  /** Name of the length-normalised accuracy metric. */
  public static final String ACC_NORM = "acc_norm";

  private final String id;
  private final boolean definesNormalised;
  private final boolean reportsNormalised;

  ZeroShotTask(String id, boolean definesNormalised, boolean reportsNormalised) {
    this.id = id;
    this.definesNormalised = definesNormalised;
    this.reportsNormalised = reportsNormalised;
  }

  /** Whether lm-evaluation-harness defines {@link #ACC_NORM} for this task. */
  public boolean definesNormalised() {
    return definesNormalised;
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
