package org.rankadaptor.dl4j.recover;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alpaca-style instruction data ({@code [{instruction, input, output}]}) as alpaca-lora and LLM-Pruner
 * train on it: the {@code templates/alpaca.json} prompt followed by the output, encoded with BOS, cut at
 * a cutoff length, EOS appended when there is room, and the prompt's tokens excluded from the loss
 * ({@code train_on_inputs=False}).
 *
 * @since 0.1.0
 */
public final class AlpacaData {

  private static final Logger LOG = LoggerFactory.getLogger(AlpacaData.class);

  /** alpaca-lora's {@code prompt_input}, with its {@code {instruction}} and {@code {input}} placeholders. */
  public static final String PROMPT_INPUT = "Below is an instruction that describes a task, paired with an input that"
      + " provides further context. Write a response that appropriately completes the request.\n\n"
      + "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";

  /** alpaca-lora's {@code prompt_no_input}, with its {@code {instruction}} placeholder. */
  public static final String PROMPT_NO_INPUT = "Below is an instruction that describes a task. Write a response that"
      + " appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n";

  /** The cutoff of alpaca-lora and LLM-Pruner's recovery. */
  public static final int DEFAULT_CUTOFF = 256;

  /** Instruction files are a few megabytes; this bounds what a wrong path can make us allocate. */
  static final long MAX_FILE_BYTES = 512L << 20;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private AlpacaData() {}

  /**
   * One record.
   *
   * @param instruction the task
   * @param input further context; empty for none
   * @param output the response
   */
  public record Record(String instruction, String input, String output) {
    /** All three fields are required (empty strings are fine). */
    public Record {
      if (instruction == null || input == null || output == null) {
        throw new IllegalArgumentException("instruction, input and output must not be null");
      }
    }
  }

  /** The prompt up to and including {@code ### Response:\n}; the template with input when input is non-empty. */
  public static String prompt(String instruction, String input) {
    return input.isEmpty()
        ? format(PROMPT_NO_INPUT, Map.of("instruction", instruction))
        : format(PROMPT_INPUT, Map.of("instruction", instruction, "input", input));
  }

  /** Python's {@code str.format} with named fields, in one pass: braces inside the values stay as they are. */
  private static String format(String template, Map<String, String> values) {
    StringBuilder sb = new StringBuilder();
    int from = 0;
    for (int open = template.indexOf('{'); open >= 0; open = template.indexOf('{', from)) {
      int close = template.indexOf('}', open);
      sb.append(template, from, open).append(values.get(template.substring(open + 1, close)));
      from = close + 1;
    }
    return sb.append(template, from, template.length()).toString();
  }

  /**
   * Tokenises one record as alpaca-lora's {@code generate_and_tokenize_prompt}: prompt + output with BOS,
   * cut at {@code cutoff} tokens, EOS appended when shorter than the cutoff; the first
   * {@code len(encode(prompt))} tokens (also cut at the cutoff) are not targets.
   */
  public static TrainingExample example(Tokenizer tokenizer, Record record, int cutoff) {
    if (cutoff < 2) {
      throw new IllegalArgumentException("cutoff must be at least 2, got " + cutoff);
    }
    String prompt = prompt(record.instruction(), record.input());
    int[] full = tokenizer.encode(prompt + record.output(), true, false);
    full = Arrays.copyOf(full, Math.min(full.length, cutoff));
    if (full.length < cutoff && (full.length == 0 || full[full.length - 1] != tokenizer.eosId())) {
      full = Arrays.copyOf(full, full.length + 1);
      full[full.length - 1] = tokenizer.eosId();
    }
    int promptLength = Math.min(tokenizer.encode(prompt, true, false).length, cutoff);
    boolean[] mask = new boolean[full.length];
    for (int i = Math.max(1, promptLength); i < full.length; i++) {
      mask[i] = true;
    }
    return new TrainingExample(full, mask);
  }

  /** Reads the records of a JSON array file; {@code input} may be absent or null (no input). */
  public static List<Record> read(Path file) {
    JsonNode root;
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw new TrainingDataException(file, "", "", size + " bytes exceeds the limit of " + MAX_FILE_BYTES, null);
      }
      root = JSON.readTree(file.toFile());
    } catch (JacksonException e) {
      throw new TrainingDataException(file, "", "", "malformed JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new TrainingDataException(file, "", "", "cannot be read: " + e, e);
    }
    if (root == null || !root.isArray()) {
      throw new TrainingDataException(file, "", "", "expected a JSON array of records", null);
    }
    List<Record> records = new ArrayList<>(root.size());
    for (int i = 0; i < root.size(); i++) {
      JsonNode r = root.get(i);
      String where = "record " + i;
      if (!r.isObject()) {
        throw new TrainingDataException(file, where, "", "expected an object, found " + r.getNodeType(), null);
      }
      records.add(new Record(
          text(file, where, r, "instruction", false), text(file, where, r, "input", true), text(file, where, r, "output", false)));
    }
    return records;
  }

  /**
   * Reads and tokenises a file. Records whose prompt alone fills the cutoff leave no target and are
   * dropped (logged).
   */
  public static TrainingData load(Path file, Tokenizer tokenizer, int cutoff) {
    List<TrainingExample> examples = new ArrayList<>();
    int dropped = 0;
    for (Record r : read(file)) {
      TrainingExample e = example(tokenizer, r, cutoff);
      if (e.targetCount() == 0) {
        dropped++;
      } else {
        examples.add(e);
      }
    }
    if (dropped > 0) {
      LOG.warn("{}: dropped {} records whose prompt fills the cutoff of {} tokens", file, dropped, cutoff);
    }
    return TrainingData.of(examples);
  }

  private static String text(Path file, String where, JsonNode r, String field, boolean optional) {
    JsonNode v = r.get(field);
    if (v == null || v.isNull()) {
      if (optional) {
        return "";
      }
      throw new TrainingDataException(file, where, field, "missing", null);
    }
    if (!v.isTextual()) {
      throw new TrainingDataException(file, where, field, "expected a string, found " + v.getNodeType(), null);
    }
    return v.textValue();
  }
}
