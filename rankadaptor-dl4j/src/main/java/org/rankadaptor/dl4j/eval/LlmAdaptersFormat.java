package org.rankadaptor.dl4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the LLM-Adapters instruction files ({@code [{instruction, input, output, answer}]}): the question
 * and options are recovered from the {@code instruction} string, which that project built from fixed
 * templates, and the gold index from {@code answer}.
 */
final class LlmAdaptersFormat {

  private static final String BOOLQ_PREFIX = "Please answer the following question with true or false, question: ";
  private static final String BOOLQ_SUFFIX = "\n\nAnswer format: true/false";
  private static final String PIQA_PREFIX = "Please choose the correct solution to the question: ";
  private static final String PIQA_SUFFIX = "\n\nAnswer format: solution1/solution2";
  private static final String WINOGRANDE_PREFIX =
      "Please choose the correct answer to fill in the blank to complete the given sentence: ";
  private static final String WINOGRANDE_SUFFIX = " Answer format: option1/option2";
  private static final String QUESTION_PREFIX = "Please choose the correct answer to the question: ";
  private static final String ANSWER_FORMAT = "\n\nAnswer format: ";
  /** The LLM-Adapters files have at most five options; more would signal a wrongly parsed string. */
  private static final int MAX_OPTIONS = 26;

  private LlmAdaptersFormat() {}

  static List<MultipleChoiceItem> load(Path file, ZeroShotTask task) {
    List<JsonNode> records = TaskFiles.jsonArrayOfObjects(file);
    List<MultipleChoiceItem> items = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      JsonNode record = records.get(i);
      String where = "item " + i;
      String instruction = TaskFiles.text(file, where, record, "instruction");
      String answer = TaskFiles.text(file, where, record, "answer").strip();
      Parser p = new Parser(file, where, instruction);
      String id = Integer.toString(i);
      MultipleChoiceItem item = switch (task) {
        case BOOLQ -> boolq(p, id, answer);
        case PIQA -> piqa(p, id, answer);
        case WINOGRANDE -> winogrande(p, id, answer);
        case ARC_EASY, ARC_CHALLENGE, OPENBOOKQA -> question(p, task, id, answer);
        case HELLASWAG -> throw new TaskFormatException(
            file, "", "", "HellaSwag has no LLM-Adapters test file this loader knows; use the original JSONL");
      };
      items.add(item);
    }
    return items;
  }

  private static MultipleChoiceItem boolq(Parser p, String id, String answer) {
    String question = p.between(BOOLQ_PREFIX, BOOLQ_SUFFIX);
    // The conversion appended '?', which the harness's prompt adds itself.
    if (question.endsWith("?")) {
      question = question.substring(0, question.length() - 1);
    }
    boolean gold = switch (answer) {
      case "true" -> true;
      case "false" -> false;
      default -> throw p.error("answer", "expected true or false, found '" + answer + "'");
    };
    String q = question;
    return TaskFiles.item(p.file, p.where, () -> LmEvalPrompts.boolq(id, "", q, gold));
  }

  private static MultipleChoiceItem piqa(Parser p, String id, String answer) {
    String body = p.between(PIQA_PREFIX, PIQA_SUFFIX);
    List<String> parts = p.splitOn(body, List.of("\n\nSolution1: ", "\n\nSolution2: "));
    int gold = p.goldIndex(answer, "solution", 2);
    return TaskFiles.item(p.file, p.where, () -> LmEvalPrompts.piqa(id, parts.get(0), parts.get(1), parts.get(2), gold));
  }

  private static MultipleChoiceItem winogrande(Parser p, String id, String answer) {
    String body = p.between(WINOGRANDE_PREFIX, WINOGRANDE_SUFFIX);
    List<String> parts = p.splitOn(body, List.of("\n\nOption1: ", " Option2: "));
    int gold = p.goldIndex(answer, "option", 2);
    return TaskFiles.item(p.file, p.where,
        () -> LmEvalPrompts.winogrande(id, parts.get(0), parts.get(1), parts.get(2), gold));
  }

  private static MultipleChoiceItem question(Parser p, ZeroShotTask task, String id, String answer) {
    String s = p.instruction;
    if (!s.startsWith(QUESTION_PREFIX)) {
      throw p.error("instruction", "does not start with '" + QUESTION_PREFIX.strip() + "'");
    }
    int formatAt = s.lastIndexOf(ANSWER_FORMAT);
    if (formatAt < QUESTION_PREFIX.length()) {
      throw p.error("instruction", "has no 'Answer format:' line");
    }
    String[] names = s.substring(formatAt + ANSWER_FORMAT.length()).split("/", -1);
    if (names.length < 2 || names.length > MAX_OPTIONS) {
      throw p.error("instruction", "'Answer format:' lists " + names.length + " answers");
    }
    for (int k = 0; k < names.length; k++) {
      if (!names[k].equals("answer" + (k + 1))) {
        throw p.error("instruction", "'Answer format:' entry " + (k + 1) + " is '" + names[k] + "'");
      }
    }
    String body = s.substring(QUESTION_PREFIX.length(), formatAt);
    List<String> markers = new ArrayList<>(names.length);
    markers.add("\n\nAnswer1: ");
    for (int k = 2; k <= names.length; k++) {
      markers.add(" Answer" + k + ": ");
    }
    List<String> parts = p.splitOn(body, markers);
    String question = parts.get(0);
    List<String> choices = parts.subList(1, parts.size());
    int gold = p.goldIndex(answer, "answer", choices.size());
    return TaskFiles.item(p.file, p.where, () -> task == ZeroShotTask.OPENBOOKQA
        ? LmEvalPrompts.openBookQa(id, question, choices, gold)
        : LmEvalPrompts.arc(id, question, choices, gold));
  }

  /** Cuts one instruction string, reporting failures against its file and item. */
  private static final class Parser {
    final Path file;
    final String where;
    final String instruction;

    Parser(Path file, String where, String instruction) {
      this.file = file;
      this.where = where;
      this.instruction = instruction;
    }

    TaskFormatException error(String field, String problem) {
      return new TaskFormatException(file, where, field, problem);
    }

    String between(String prefix, String suffix) {
      if (!instruction.startsWith(prefix)) {
        throw error("instruction", "does not start with '" + prefix.strip() + "'");
      }
      if (!instruction.endsWith(suffix) || instruction.length() < prefix.length() + suffix.length()) {
        throw error("instruction", "does not end with '" + suffix.strip() + "'");
      }
      return instruction.substring(prefix.length(), instruction.length() - suffix.length());
    }

    /** Splits at each marker in turn (each searched after the previous one): markers.size() + 1 parts. */
    List<String> splitOn(String body, List<String> markers) {
      List<String> parts = new ArrayList<>(markers.size() + 1);
      int from = 0;
      for (String marker : markers) {
        int at = body.indexOf(marker, from);
        if (at < 0) {
          throw error("instruction", "has no '" + marker.strip() + "'");
        }
        parts.add(body.substring(from, at));
        from = at + marker.length();
      }
      parts.add(body.substring(from));
      return parts;
    }

    /** {@code answer} of the form {@code <stem><k>} with k in [1, n], as a 0-based index. */
    int goldIndex(String answer, String stem, int n) {
      if (answer.startsWith(stem)) {
        String digits = answer.substring(stem.length());
        if (!digits.isEmpty() && digits.length() <= 3 && digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
          int k = Integer.parseInt(digits);
          if (k >= 1 && k <= n) {
            return k - 1;
          }
        }
      }
      throw error("answer", "expected " + stem + "1.." + stem + n + ", found '" + answer + "'");
    }
  }
}
