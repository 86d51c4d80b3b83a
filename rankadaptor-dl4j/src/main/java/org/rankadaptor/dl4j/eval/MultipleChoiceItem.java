package org.rankadaptor.dl4j.eval;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * One zero-shot multiple-choice question as lm-evaluation-harness scores it. Option {@code i} is the
 * request (context, {@code " " + choice}) where context and choice are {@code contexts[i]} and
 * {@code choices[i]}, or the only element when that list has one: most tasks have one context and
 * several choices; WinoGrande's partial scoring has one context per option and one shared choice (the
 * sentence after the blank).
 *
 * @param id identifies the item within its source (the dataset's id, or its 0-based position)
 * @param contexts one context, or one per option
 * @param choices one choice text per option, or one shared; without the leading space
 * @param gold index of the correct option
 * @since 0.1.0
 */
public record MultipleChoiceItem(String id, List<String> contexts, List<String> choices, int gold) {

  /** Checks the contexts, choices and label; copies the lists. */
  public MultipleChoiceItem {
    contexts = ImmutableList.copyOf(contexts);
    choices = ImmutableList.copyOf(choices);
    int n = Math.max(contexts.size(), choices.size());
    if (contexts.isEmpty() || choices.isEmpty()) {
      throw new IllegalArgumentException("item " + id + ": needs at least one context and one choice");
    }
    if (n < 2) {
      throw new IllegalArgumentException("item " + id + ": needs at least two options, got " + n);
    }
    if ((contexts.size() != 1 && contexts.size() != n) || (choices.size() != 1 && choices.size() != n)) {
      throw new IllegalArgumentException("item " + id + ": " + contexts.size() + " contexts and "
          + choices.size() + " choices; each must be 1 or the number of options");
    }
    for (String c : choices) {
      if (c.isEmpty()) {
        // acc_norm divides by the choice's length.
        throw new IllegalArgumentException("item " + id + ": a choice is empty");
      }
    }
    if (gold < 0 || gold >= n) {
      throw new IllegalArgumentException("item " + id + ": gold index " + gold + " outside [0, " + n + ")");
    }
  }

  /** An item with one context and one choice per option. */
  public static MultipleChoiceItem ofChoices(String id, String context, List<String> choices, int gold) {
    return new MultipleChoiceItem(id, List.of(context), choices, gold);
  }

  /** Number of options. */
  public int numOptions() {
    return Math.max(contexts.size(), choices.size());
  }

  /** The context of option {@code i}. */
  public String context(int i) {
    return contexts.size() == 1 ? contexts.get(0) : contexts.get(i);
  }

  /** The choice text of option {@code i}, without the leading space. */
  public String choice(int i) {
    return choices.size() == 1 ? choices.get(0) : choices.get(i);
  }

  /** The continuation scored for option {@code i}: a space, then the choice. */
  public String continuation(int i) {
    return " " + choice(i);
  }
}
