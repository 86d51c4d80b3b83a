package org.rankadaptor.dl4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Loaders of zero-shot task files, one per published format. Every loader returns items with
 * lm-evaluation-harness's contexts and choices (see {@link MultipleChoiceItem}), whatever the format,
 * and throws {@link TaskFormatException} naming the file, line or item, and field on malformed input.
 *
 * @since 0.1.0
 */
public final class TaskLoaders {

  private TaskLoaders() {}

  /**
   * The LLM-Adapters instruction format ({@code dataset/<task>/test.json}): a JSON array of
   * {@code {instruction, input, output, answer}} whose question and options live inside
   * {@code instruction}. Item ids are 0-based positions. BoolQ in this format has no passage, so its
   * context is only {@code Question: ...?\nAnswer:}.
   *
   * @param task which task's instruction template the file uses; not HellaSwag
   */
  public static List<MultipleChoiceItem> llmAdapters(Path file, ZeroShotTask task) {
    return LlmAdaptersFormat.load(file, task);
  }

  /**
   * The six LLM-Adapters test files of the RankAdaptor tables, from a folder laid out as LLM-Adapters'
   * {@code dataset/}: {@code boolq/}, {@code piqa/}, {@code winogrande/}, {@code ARC-Easy/},
   * {@code ARC-Challenge/} and {@code openbookqa/}, each holding {@code test.json}. HellaSwag is not
   * among them (its instruction file loses the harness's context); load it with {@link #hellaswagJsonl}.
   */
  public static Map<ZeroShotTask, List<MultipleChoiceItem>> llmAdaptersSuite(Path datasetDir) {
    Map<ZeroShotTask, List<MultipleChoiceItem>> suite = new EnumMap<>(ZeroShotTask.class);
    suite.put(ZeroShotTask.BOOLQ, llmAdapters(datasetDir.resolve("boolq/test.json"), ZeroShotTask.BOOLQ));
    suite.put(ZeroShotTask.PIQA, llmAdapters(datasetDir.resolve("piqa/test.json"), ZeroShotTask.PIQA));
    suite.put(ZeroShotTask.WINOGRANDE, llmAdapters(datasetDir.resolve("winogrande/test.json"), ZeroShotTask.WINOGRANDE));
    suite.put(ZeroShotTask.ARC_EASY, llmAdapters(datasetDir.resolve("ARC-Easy/test.json"), ZeroShotTask.ARC_EASY));
    suite.put(ZeroShotTask.ARC_CHALLENGE,
        llmAdapters(datasetDir.resolve("ARC-Challenge/test.json"), ZeroShotTask.ARC_CHALLENGE));
    suite.put(ZeroShotTask.OPENBOOKQA, llmAdapters(datasetDir.resolve("openbookqa/test.json"), ZeroShotTask.OPENBOOKQA));
    return suite;
  }

  /**
   * The OpenBookQA release TSV ({@code Main/test.tsv}) with columns {@code ID}, {@code Question Stem},
   * {@code Choices} (such as {@code (A) x (B) y (C) z (D) w}) and {@code Answer Key}.
   */
  public static List<MultipleChoiceItem> openBookQaTsv(Path file) {
    List<String> lines = TaskFiles.lines(file);
    if (lines.isEmpty()) {
      throw new TaskFormatException(file, "", "", "empty file, expected a header line");
    }
    List<String> header = Arrays.asList(lines.get(0).split("\t", -1));
    int idCol = column(file, header, "ID");
    int stemCol = column(file, header, "Question Stem");
    int choicesCol = column(file, header, "Choices");
    int keyCol = column(file, header, "Answer Key");
    List<MultipleChoiceItem> items = new ArrayList<>(lines.size());
    for (int i = 1; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      String where = "line " + (i + 1);
      String[] cells = lines.get(i).split("\t", -1);
      if (cells.length != header.size()) {
        throw new TaskFormatException(file, where, "", cells.length + " columns, the header has " + header.size());
      }
      String stem = cells[stemCol];
      if (stem.isEmpty()) {
        throw new TaskFormatException(file, where, "Question Stem", "is empty");
      }
      List<String> labels = new ArrayList<>();
      List<String> choices = lettered(file, where, cells[choicesCol], labels);
      int gold = labels.indexOf(cells[keyCol].strip());
      if (gold < 0) {
        throw new TaskFormatException(file, where, "Answer Key", "'" + cells[keyCol] + "' is not one of " + labels);
      }
      items.add(TaskFiles.item(file, where, () -> LmEvalPrompts.openBookQa(cells[idCol], stem, choices, gold)));
    }
    return items;
  }

  /**
   * ARC JSON Lines ({@code ARC-Easy-Test.jsonl}, {@code ARC-Challenge-Test.jsonl}):
   * {@code {id, question: {stem, choices: [{text, label}]}, answerKey}}. Labels may be letters or digits;
   * the gold option is the one whose label equals {@code answerKey}.
   */
  public static List<MultipleChoiceItem> arcJsonl(Path file) {
    List<MultipleChoiceItem> items = new ArrayList<>();
    for (TaskFiles.JsonLine line : TaskFiles.jsonLinesOfObjects(file)) {
      String where = line.where();
      JsonNode o = line.node();
      String id = TaskFiles.text(file, where, o, "id");
      JsonNode question = TaskFiles.object(file, where, o, "question");
      String stem = TaskFiles.nonEmptyText(file, where, question, "stem");
      JsonNode choiceNodes = TaskFiles.array(file, where, question, "choices");
      List<String> texts = new ArrayList<>();
      List<String> labels = new ArrayList<>();
      for (JsonNode c : choiceNodes) {
        if (!c.isObject()) {
          throw new TaskFormatException(file, where, "choices", "expected objects, found " + c.getNodeType());
        }
        texts.add(TaskFiles.text(file, where, c, "text"));
        labels.add(TaskFiles.text(file, where, c, "label"));
      }
      String key = TaskFiles.text(file, where, o, "answerKey");
      int gold = labels.indexOf(key);
      if (gold < 0) {
        throw new TaskFormatException(file, where, "answerKey", "'" + key + "' is not one of " + labels);
      }
      items.add(TaskFiles.item(file, where, () -> LmEvalPrompts.arc(id, stem, texts, gold)));
    }
    return items;
  }

  /**
   * PIQA JSON Lines as released ({@code valid.jsonl}: {@code {goal, sol1, sol2}}) with the labels in a
   * separate file ({@code valid-labels.lst}, one 0 or 1 per line), or with a {@code label} field on each
   * line (the Hugging Face copy) when {@code labels} is null. Item ids are 0-based positions.
   */
  public static List<MultipleChoiceItem> piqaJsonl(Path file, Path labels) {
    List<TaskFiles.JsonLine> lines = TaskFiles.jsonLinesOfObjects(file);
    int[] gold = labels == null ? null : labels(labels);
    if (gold != null && gold.length != lines.size()) {
      throw new TaskFormatException(labels, "", "", gold.length + " labels for " + lines.size() + " items of " + file);
    }
    List<MultipleChoiceItem> items = new ArrayList<>(lines.size());
    for (int i = 0; i < lines.size(); i++) {
      TaskFiles.JsonLine line = lines.get(i);
      String where = line.where();
      JsonNode o = line.node();
      int label = gold != null ? gold[i] : TaskFiles.integer(file, where, o, "label");
      if (label != 0 && label != 1) {
        throw new TaskFormatException(gold != null ? labels : file, gold != null ? "line " + (i + 1) : where,
            "label", "expected 0 or 1, found " + label);
      }
      String goal = TaskFiles.nonEmptyText(file, where, o, "goal");
      String sol1 = TaskFiles.text(file, where, o, "sol1");
      String sol2 = TaskFiles.text(file, where, o, "sol2");
      String id = Integer.toString(i);
      items.add(TaskFiles.item(file, where, () -> LmEvalPrompts.piqa(id, goal, sol1, sol2, label)));
    }
    return items;
  }

  /**
   * WinoGrande JSON Lines ({@code dev.jsonl}: {@code {qID, sentence, option1, option2, answer}} with
   * {@code answer} "1" or "2"), scored partially (see {@link MultipleChoiceItem}).
   */
  public static List<MultipleChoiceItem> winograndeJsonl(Path file) {
    List<MultipleChoiceItem> items = new ArrayList<>();
    for (TaskFiles.JsonLine line : TaskFiles.jsonLinesOfObjects(file)) {
      String where = line.where();
      JsonNode o = line.node();
      String id = o.has("qID") ? TaskFiles.text(file, where, o, "qID") : Integer.toString(items.size());
      String sentence = TaskFiles.text(file, where, o, "sentence");
      String option1 = TaskFiles.text(file, where, o, "option1");
      String option2 = TaskFiles.text(file, where, o, "option2");
      int answer = TaskFiles.integer(file, where, o, "answer");
      if (answer != 1 && answer != 2) {
        throw new TaskFormatException(file, where, "answer", "expected 1 or 2, found " + answer);
      }
      if (sentence.indexOf('_') < 0) {
        throw new TaskFormatException(file, where, "sentence", "has no blank '_'");
      }
      items.add(TaskFiles.item(file, where,
          () -> LmEvalPrompts.winogrande(id, sentence, option1, option2, answer - 1)));
    }
    return items;
  }

  /**
   * BoolQ JSON Lines: SuperGLUE's {@code val.jsonl} ({@code {question, passage, idx, label}}) or the
   * original release ({@code {question, title, answer, passage}}). Ids are {@code idx} when present,
   * else 0-based positions.
   */
  public static List<MultipleChoiceItem> boolqJsonl(Path file) {
    List<MultipleChoiceItem> items = new ArrayList<>();
    for (TaskFiles.JsonLine line : TaskFiles.jsonLinesOfObjects(file)) {
      String where = line.where();
      JsonNode o = line.node();
      String id = o.has("idx") ? o.get("idx").asText() : Integer.toString(items.size());
      String question = TaskFiles.nonEmptyText(file, where, o, "question");
      String passage = TaskFiles.text(file, where, o, "passage");
      boolean answer = TaskFiles.bool(file, where, o, o.has("label") ? "label" : "answer");
      items.add(TaskFiles.item(file, where, () -> LmEvalPrompts.boolq(id, passage, question, answer)));
    }
    return items;
  }

  /**
   * HellaSwag JSON Lines ({@code hellaswag_val.jsonl}:
   * {@code {ind, activity_label, ctx_a, ctx_b, endings, label}}). Ids are {@code ind} when present.
   */
  public static List<MultipleChoiceItem> hellaswagJsonl(Path file) {
    List<MultipleChoiceItem> items = new ArrayList<>();
    for (TaskFiles.JsonLine line : TaskFiles.jsonLinesOfObjects(file)) {
      String where = line.where();
      JsonNode o = line.node();
      String id = o.has("ind") ? o.get("ind").asText() : Integer.toString(items.size());
      String activity = TaskFiles.text(file, where, o, "activity_label");
      String ctxA = TaskFiles.text(file, where, o, "ctx_a");
      String ctxB = TaskFiles.text(file, where, o, "ctx_b");
      List<String> endings = new ArrayList<>();
      for (JsonNode e : TaskFiles.array(file, where, o, "endings")) {
        if (!e.isTextual()) {
          throw new TaskFormatException(file, where, "endings", "expected strings, found " + e.getNodeType());
        }
        endings.add(e.textValue());
      }
      int label = TaskFiles.integer(file, where, o, "label");
      items.add(TaskFiles.item(file, where, () -> LmEvalPrompts.hellaswag(id, activity, ctxA, ctxB, endings, label)));
    }
    return items;
  }

  /**
   * A label file ({@code dev-labels.lst}): one integer per line, such as PIQA's 0/1 or WinoGrande's 1/2.
   * Blank trailing lines are ignored.
   */
  public static int[] labels(Path file) {
    List<String> lines = TaskFiles.lines(file);
    int n = lines.size();
    while (n > 0 && lines.get(n - 1).isBlank()) {
      n--;
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      String s = lines.get(i).strip();
      try {
        labels[i] = Integer.parseInt(s);
      } catch (NumberFormatException e) {
        throw new TaskFormatException(file, "line " + (i + 1), "label", "expected an integer, found '" + s + "'", e);
      }
    }
    return labels;
  }

  private static int column(Path file, List<String> header, String name) {
    int at = header.indexOf(name);
    if (at < 0) {
      throw new TaskFormatException(file, "line 1", name, "column missing from the header " + header);
    }
    return at;
  }

  /** Splits {@code (A) x (B) y ...} into texts, filling {@code labels} with A, B, ...; at least two. */
  private static List<String> lettered(Path file, String where, String cell, List<String> labels) {
    if (!cell.startsWith("(A) ")) {
      throw new TaskFormatException(file, where, "Choices", "does not start with '(A) '");
    }
    List<String> texts = new ArrayList<>();
    int from = 4;
    for (char letter = 'B'; ; letter++) {
      String marker = " (" + letter + ") ";
      int at = letter <= 'Z' ? cell.indexOf(marker, from) : -1;
      labels.add(String.valueOf((char) (letter - 1)));
      if (at < 0) {
        texts.add(cell.substring(from));
        break;
      }
      texts.add(cell.substring(from, at));
      from = at + marker.length();
    }
    if (texts.size() < 2) {
      throw new TaskFormatException(file, where, "Choices", "fewer than two choices");
    }
    return texts;
  }
}
