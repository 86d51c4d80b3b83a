package org.rankadaptor.dl4j.recover;

/**
 * AdaLoRA's budget of kept singular triplets at each optimiser step, as PEFT's {@code RankAllocator}
 * schedules it (steps are 0-based, as PEFT's training loop counts them): the initial budget through step
 * {@code tinit}; then {@code (init - target) * (1 - (t - tinit) / (T - tfinal - tinit))^3 + target}, cut
 * to an integer, with a masking every {@code deltaT} steps; from step {@code T - tfinal} on, the target,
 * masked at every step.
 *
 * @param initialBudget triplets at the start: the sum of the modules' initial ranks
 * @param targetBudget triplets at the end: {@code target_r} times the number of modules
 * @param tinit warm-up steps
 * @param tfinal steps at the final budget
 * @param totalSteps the recovery's optimiser steps
 * @param deltaT steps between maskings in the budgeting phase
 */
record BudgetSchedule(long initialBudget, long targetBudget, int tinit, int tfinal, int totalSteps, int deltaT) {

  /** The budget after step {@code step} and whether triplets are masked to it then. */
  record Budget(long triplets, boolean mask) {}

  BudgetSchedule {
    if (targetBudget > initialBudget || targetBudget < 0) {
      throw new IllegalArgumentException(
          "target budget " + targetBudget + " must lie in 0..initial budget " + initialBudget);
    }
    if (tinit >= totalSteps - tfinal) {
      throw new IllegalArgumentException(
          "tinit (" + tinit + ") + tfinal (" + tfinal + ") must be less than total steps (" + totalSteps + ")");
    }
  }

  /** The budget at 0-based step {@code step}. */
  Budget at(int step) {
    if (step <= tinit) {
      return new Budget(initialBudget, false);
    }
    if (step > totalSteps - tfinal) {
      return new Budget(targetBudget, true);
    }
    double remaining = 1 - (step - tinit) / (double) (totalSteps - tfinal - tinit);
    long budget = (long) ((initialBudget - targetBudget) * remaining * remaining * remaining + targetBudget);
    return new Budget(budget, step % deltaT == 0);
  }

  /**
   * The step at which the ranks become final and are masked to the target whatever {@code deltaT} says:
   * {@code T - tfinal}, or the last step when there is no final phase (PEFT's 0-based loop never reaches
   * {@code T}, so without this the last masking could miss the target).
   */
  int finalMaskStep() {
    return tfinal > 0 ? totalSteps - tfinal : totalSteps - 1;
  }
}
