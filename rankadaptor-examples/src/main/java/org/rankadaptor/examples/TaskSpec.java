package org.rankadaptor.examples;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import org.rankadaptor.dl4j.eval.ZeroShotTask;
import picocli.CommandLine;

/**
 * A task named on the command line: {@code ppl:FILE} (perplexity of a text file, or of an Alpaca JSON
 * file's records) or {@code TASK:FILE} for a zero-shot task in the LLM-Adapters format, such as
 * {@code piqa:dataset/piqa/test.json}.
 *
 * @param zeroShot the zero-shot task, or empty for perplexity
 * @param file the data file
 */
record TaskSpec(Optional<ZeroShotTask> zeroShot, Path file) {

  static final String PERPLEXITY = "ppl";

  /** The id observations are stored under: the zero-shot task's, or {@code ppl/<file name>}. */
  String taskId() {
    return zeroShot.map(ZeroShotTask::id).orElse(PERPLEXITY + "/" + file.getFileName());
  }

  @Override
  public String toString() {
    return zeroShot.map(ZeroShotTask::id).orElse(PERPLEXITY) + ":" + file;
  }

  /** Parses {@code KIND:FILE}; picocli reports a failure as an invalid option value. */
  static final class Converter implements CommandLine.ITypeConverter<TaskSpec> {
    @Override
    public TaskSpec convert(String value) {
      int colon = value.indexOf(':');
      if (colon <= 0 || colon == value.length() - 1) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not KIND:FILE (KIND: " + PERPLEXITY + " or one of " + kinds() + ")");
      }
      String kind = value.substring(0, colon).toLowerCase(Locale.ROOT);
      Path file = Path.of(value.substring(colon + 1));
      if (kind.equals(PERPLEXITY)) {
        return new TaskSpec(Optional.empty(), file);
      }
      for (ZeroShotTask task : ZeroShotTask.values()) {
        if (task.id().equals(kind)) {
          if (task == ZeroShotTask.HELLASWAG) {
            throw new CommandLine.TypeConversionException(
                "hellaswag has no LLM-Adapters instruction file that keeps its context; not supported here");
          }
          return new TaskSpec(Optional.of(task), file);
        }
      }
      throw new CommandLine.TypeConversionException(
          "unknown task kind '" + kind + "' in '" + value + "'; known: " + PERPLEXITY + ", " + kinds());
    }

    private static String kinds() {
      return String.join(", ", Arrays.stream(ZeroShotTask.values())
          .filter(t -> t != ZeroShotTask.HELLASWAG).map(ZeroShotTask::id).toList());
    }
  }
}
