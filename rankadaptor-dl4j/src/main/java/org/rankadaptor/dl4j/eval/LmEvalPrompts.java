package org.rankadaptor.dl4j.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * lm-evaluation-harness's prompts, one method per task, so that every loader of a task (whatever its file
 * format) builds the same contexts and choices.
 */
final class LmEvalPrompts {

  private static final Pattern HELLASWAG_BRACKETS = Pattern.compile("\\[.*?\\]");

  private LmEvalPrompts() {}

  /**
   * BoolQ: {@code {passage}\nQuestion: {question}?\nAnswer:}, or without the passage line when there is
   * none. The choices are ordered {@code no, yes} as in the harness, so that a tie predicts "no".
   */
  static MultipleChoiceItem boolq(String id, String passage, String question, boolean answer) {
    String context = (passage == null || passage.isEmpty() ? "" : passage + "\n")
        + "Question: " + question + "?\nAnswer:";
    return MultipleChoiceItem.ofChoices(id, context, List.of("no", "yes"), answer ? 1 : 0);
  }

  /** PIQA: {@code Question: {goal}\nAnswer:} with the two solutions. */
  static MultipleChoiceItem piqa(String id, String goal, String sol1, String sol2, int gold) {
    return MultipleChoiceItem.ofChoices(id, "Question: " + goal + "\nAnswer:", List.of(sol1, sol2), gold);
  }

  /** ARC (Easy and Challenge): {@code Question: {question}\nAnswer:} with the choice texts. */
  static MultipleChoiceItem arc(String id, String question, List<String> choices, int gold) {
    return MultipleChoiceItem.ofChoices(id, "Question: " + question + "\nAnswer:", choices, gold);
  }

  /** OpenBookQA: the question stem alone as context. */
  static MultipleChoiceItem openBookQa(String id, String questionStem, List<String> choices, int gold) {
    return MultipleChoiceItem.ofChoices(id, questionStem, choices, gold);
  }

  /**
   * WinoGrande, partial scoring: option i's context is the sentence up to the blank followed by option i;
   * the shared continuation is the rest of the sentence after the blank, stripped.
   *
   * @param gold 0 for option 1, 1 for option 2
   * @throws IllegalArgumentException when the sentence has no blank {@code _}
   */
  static MultipleChoiceItem winogrande(String id, String sentence, String option1, String option2, int gold) {
    int blank = sentence.indexOf('_');
    if (blank < 0) {
      throw new IllegalArgumentException("the sentence has no blank '_'");
    }
    String before = sentence.substring(0, blank);
    String after = sentence.substring(blank + 1).strip();
    return new MultipleChoiceItem(id, List.of(before + option1, before + option2), List.of(after), gold);
  }

  /**
   * HellaSwag: {@code {activity_label}: {ctx_a} {ctx_b capitalised}} and each ending, all through the
   * harness's clean-up of WikiHow brackets.
   */
  static MultipleChoiceItem hellaswag(
      String id, String activityLabel, String ctxA, String ctxB, List<String> endings, int gold) {
    String context = hellaswagPreprocess(activityLabel + ": " + ctxA + " " + capitalize(ctxB));
    List<String> choices = new ArrayList<>(endings.size());
    for (String ending : endings) {
      choices.add(hellaswagPreprocess(ending));
    }
    return MultipleChoiceItem.ofChoices(id, context, choices, gold);
  }

  /** The harness's {@code preprocess}: strip, " [title]" to ". ", drop {@code [...]}, double spaces to one. */
  static String hellaswagPreprocess(String text) {
    String t = text.strip();
    t = t.replace(" [title]", ". ");
    t = HELLASWAG_BRACKETS.matcher(t).replaceAll("");
    // Python's str.replace replaces non-overlapping occurrences left to right once, as Java's does.
    return t.replace("  ", " ");
  }

  /** Python's {@code str.capitalize}: first character in title case, the rest in lower case. */
  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    int n = Character.charCount(first);
    return new StringBuilder()
        .appendCodePoint(Character.toTitleCase(first))
        .append(s.substring(n).toLowerCase(Locale.ROOT))
        .toString();
  }
}
