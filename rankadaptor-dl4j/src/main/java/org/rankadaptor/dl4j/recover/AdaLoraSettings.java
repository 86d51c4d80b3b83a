package org.rankadaptor.dl4j.recover;

import java.util.Map;
import java.util.TreeMap;

/**
 * AdaLoRA's own settings (Zhang et al., ICLR 2023, as PEFT's {@code AdaLoraConfig} names them); the
 * optimiser, data and LoRA targets come from the {@link RecoverySettings} beside them.
 *
 * <p>Training has three phases over the recovery's {@code total_step} optimiser steps: {@code tinit}
 * steps at the initial rank, a budgeting phase in which the total number of kept singular triplets falls
 * cubically from {@code init_r} to {@code target_r} per adapted module (the least important triplets are
 * masked every {@code deltaT} steps), and {@code tfinal} steps at the final ranks.
 *
 * @param initR initial rank of every adapted module
 * @param targetR the average rank per adapted module at the end: the total budget is {@code targetR} times
 *     the number of adapted modules
 * @param tinit warm-up steps before any triplet is masked
 * @param tfinal steps at the final ranks after the budgeting phase
 * @param deltaT steps between two maskings during the budgeting phase
 * @param beta1 smoothing of the sensitivity {@code |w * dL/dw|}
 * @param beta2 smoothing of its uncertainty
 * @param orthRegWeight weight of the orthogonality regulariser of P and Q
 * @since 0.1.0
 */
public record AdaLoraSettings(
    int initR, int targetR, int tinit, int tfinal, int deltaT, double beta1, double beta2, double orthRegWeight) {

  /** PEFT's defaults for the rank, smoothing and regulariser. */
  public static final int DEFAULT_INIT_R = 12;

  /** PEFT's default average rank per module at the end: uniform rank 8's budget. */
  public static final int DEFAULT_TARGET_R = 8;
  /** PEFT's default smoothing of the importance (beta1 and beta2). */
  public static final double DEFAULT_BETA = 0.85;
  /** PEFT's default weight of the orthogonality regulariser. */
  public static final double DEFAULT_ORTH_REG_WEIGHT = 0.5;

  /** Validates what does not depend on the number of steps. */
  public AdaLoraSettings {
    if (initR < 1) {
      throw new IllegalArgumentException("AdaLoRA init_r must be at least 1, got " + initR);
    }
    if (targetR < 1 || targetR > initR) {
      throw new IllegalArgumentException(
          "AdaLoRA target_r must lie in 1..init_r (" + initR + "), got " + targetR);
    }
    if (tinit < 0 || tfinal < 0) {
      throw new IllegalArgumentException("AdaLoRA tinit and tfinal must not be negative, got " + tinit + " and " + tfinal);
    }
    if (deltaT < 1) {
      throw new IllegalArgumentException("AdaLoRA deltaT must be at least 1, got " + deltaT);
    }
    if (!(beta1 > 0 && beta1 < 1) || !(beta2 > 0 && beta2 < 1)) {
      throw new IllegalArgumentException("AdaLoRA beta1 and beta2 must lie in (0, 1), got " + beta1 + " and " + beta2);
    }
    if (!(orthRegWeight >= 0) || !Double.isFinite(orthRegWeight)) {
      throw new IllegalArgumentException("AdaLoRA orth_reg_weight must be finite and >= 0, got " + orthRegWeight);
    }
  }

  /**
   * The library's default for a recovery of {@code totalSteps} steps: PEFT's ranks (12 down to an average
   * of 8, uniform rank 8's budget), smoothing and regulariser, with the first 10 % of the steps as warm-up
   * and the last 30 % at the final ranks, masking every step in between. (PEFT's own defaults, {@code
   * tinit = tfinal = 0}, start masking at the first step, on importance scores of one step.)
   */
  public static AdaLoraSettings defaults(int totalSteps) {
    return new AdaLoraSettings(DEFAULT_INIT_R, DEFAULT_TARGET_R, totalSteps / 10, 3 * totalSteps / 10, 1,
        DEFAULT_BETA, DEFAULT_BETA, DEFAULT_ORTH_REG_WEIGHT);
  }

  /**
   * Checks the schedule against the recovery's length, as PEFT does.
   *
   * @throws IllegalArgumentException when {@code tinit + tfinal >= totalSteps}, which leaves no budgeting phase
   */
  public void checkSchedule(int totalSteps) {
    if (tinit >= totalSteps - tfinal) {
      throw new IllegalArgumentException("AdaLoRA tinit (" + tinit + ") + tfinal (" + tfinal + ") must be less than "
          + "the recovery's " + totalSteps + " steps, to leave a budgeting phase; lower them or train longer");
    }
  }

  /** A copy with other ranks. */
  public AdaLoraSettings withRanks(int newInitR, int newTargetR) {
    return new AdaLoraSettings(newInitR, newTargetR, tinit, tfinal, deltaT, beta1, beta2, orthRegWeight);
  }

  /** A copy with another schedule. */
  public AdaLoraSettings withSchedule(int newTinit, int newTfinal, int newDeltaT) {
    return new AdaLoraSettings(initR, targetR, newTinit, newTfinal, newDeltaT, beta1, beta2, orthRegWeight);
  }

  /** Every setting as text, by PEFT's names: for provenance and fingerprints. */
  public Map<String, String> describe() {
    Map<String, String> m = new TreeMap<>();
    m.put("init_r", Integer.toString(initR));
    m.put("target_r", Integer.toString(targetR));
    m.put("tinit", Integer.toString(tinit));
    m.put("tfinal", Integer.toString(tfinal));
    m.put("deltaT", Integer.toString(deltaT));
    m.put("beta1", Double.toString(beta1));
    m.put("beta2", Double.toString(beta2));
    m.put("orth_reg_weight", Double.toString(orthRegWeight));
    return m;
  }
}
