package org.rankadaptor.dl4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** Mangled task files either load or fail with a {@link TaskFormatException}; nothing else escapes. */
class TaskLoaderFuzzProperties {

  private static final String ADAPTERS_ARC = "[{\"instruction\": \"Please choose the correct answer to the question: Q?"
      + "\\n\\nAnswer1: a Answer2: b Answer3: c\\n\\nAnswer format: answer1/answer2/answer3\", \"input\": \"\","
      + " \"output\": \"the correct answer is answer2\", \"answer\": \"answer2\"}]";
  private static final String ADAPTERS_WINO = "[{\"instruction\": \"Please choose the correct answer to fill in the blank"
      + " to complete the given sentence: A _ b.\\n\\nOption1: x Option2: y Answer format: option1/option2\","
      + " \"input\": \"\", \"output\": \"\", \"answer\": \"option1\"}]";
  private static final String ARC = "{\"id\":\"x\",\"question\":{\"stem\":\"Q\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},"
      + "{\"text\":\"b\",\"label\":\"B\"}]},\"answerKey\":\"B\"}\n";
  private static final String HELLASWAG = "{\"ind\": 1, \"activity_label\": \"L\", \"ctx_a\": \"a\", \"ctx_b\": \"b\","
      + " \"endings\": [\"x\", \"y\"], \"label\": 1}\n";
  private static final String OBQA = "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n"
      + "1\tStem\t(A) x (B) y (C) z\tStem (A) x (B) y (C) z\tB\n";

  /** A valid file mangled by cutting, inserting, replacing and deleting characters. */
  private static Arbitrary<String> mangled(String valid) {
    Arbitrary<Character> chars = Arbitraries.of('{', '}', '[', ']', '"', ',', ':', '\\', '\t', '\n', '_', '(', ')', 'A', '1', ' ', '\u00e9', '\u0000');
    return Arbitraries.integers().between(1, 6).flatMap(edits -> Arbitraries.integers().between(0, 1 << 20)
        .list().ofSize(edits * 3).flatMap(positions -> chars.list().ofSize(edits).map(inserted -> {
          StringBuilder sb = new StringBuilder(valid);
          for (int e = 0; e < edits; e++) {
            if (sb.length() == 0) {
              break;
            }
            int at = positions.get(3 * e) % sb.length();
            switch (positions.get(3 * e + 1) % 4) {
              case 0 -> sb.setLength(at); // truncate
              case 1 -> sb.insert(at, inserted.get(e));
              case 2 -> sb.setCharAt(at, inserted.get(e));
              default -> sb.delete(at, Math.min(sb.length(), at + 1 + positions.get(3 * e + 2) % 20));
            }
          }
          return sb.toString();
        })));
  }

  @Provide
  Arbitrary<String> adaptersArc() {
    return mangled(ADAPTERS_ARC);
  }

  @Provide
  Arbitrary<String> adaptersWino() {
    return mangled(ADAPTERS_WINO);
  }

  @Provide
  Arbitrary<String> arc() {
    return mangled(ARC + ARC);
  }

  @Provide
  Arbitrary<String> hellaswag() {
    return mangled(HELLASWAG);
  }

  @Provide
  Arbitrary<String> obqa() {
    return mangled(OBQA);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Field values that pass or break each loader's checks: blanks, missing blanks, out-of-range labels. */
  private static Arbitrary<JsonNode> value() {
    return Arbitraries.oneOf(
        Arbitraries.of("", "_", "a _ b.", "x", "1", "2", "3", "A", "B", "E", "true", "no").map(TextNode::valueOf),
        Arbitraries.integers().between(-1, 5).map(IntNode::valueOf),
        Arbitraries.of(true, false).map(BooleanNode::valueOf),
        Arbitraries.just(NullNode.getInstance()),
        Arbitraries.of("", "x", "y", " [title] ", "[step]").list().ofMaxSize(4).map(list -> {
          ArrayNode a = JSON.createArrayNode();
          list.forEach(a::add);
          return a;
        }),
        Arbitraries.of("A", "B", "1").list().ofMaxSize(3).map(labels -> {
          ObjectNode q = JSON.createObjectNode().put("stem", "Q");
          ArrayNode choices = q.putArray("choices");
          labels.forEach(l -> choices.addObject().put("text", "t" + l).put("label", l));
          return q;
        }));
  }

  private static Arbitrary<JsonNode> texts(String... values) {
    return Arbitraries.of(values).map(TextNode::valueOf);
  }

  /** Per field: a value of the right type (often but not always valid) or, now and then, anything. */
  private static final Map<String, Arbitrary<JsonNode>> FIELDS = new LinkedHashMap<>();

  static {
    Arbitrary<JsonNode> words = texts("", "x", "[title] y", "z [a]");
    for (String f : List.of("goal", "sol1", "sol2", "passage", "activity_label", "ctx_a", "ctx_b", "option1", "option2")) {
      FIELDS.put(f, words);
    }
    for (String f : List.of("id", "qID", "ind", "idx", "question_text")) {
      FIELDS.put(f, texts("x", ""));
    }
    FIELDS.put("question", Arbitraries.of("A", "B", "1").list().ofMaxSize(3).map(labels -> {
      ObjectNode q = JSON.createObjectNode().put("stem", "Q");
      ArrayNode choices = q.putArray("choices");
      labels.forEach(l -> choices.addObject().put("text", "t" + l).put("label", l));
      return q;
    }));
    FIELDS.put("answerKey", texts("A", "B", "1", "E"));
    FIELDS.put("sentence", texts("a _ b.", "no blank", "_", ""));
    FIELDS.put("label", Arbitraries.oneOf(
        Arbitraries.integers().between(-1, 5).map(IntNode::valueOf), Arbitraries.of(true, false).map(BooleanNode::valueOf)));
    FIELDS.put("answer", Arbitraries.oneOf(texts("1", "2", "3"), Arbitraries.of(true, false).map(BooleanNode::valueOf)));
    FIELDS.put("endings", Arbitraries.of("", "x", "[step]", "y").list().ofMaxSize(5).map(list -> {
      ArrayNode a = JSON.createArrayNode();
      list.forEach(a::add);
      return a;
    }));
  }

  /** JSON Lines of one to three objects, each known field usually well typed, sometimes anything or absent. */
  @Provide
  Arbitrary<String> structuredLines() {
    List<Arbitrary<JsonNode>> perField = FIELDS.values().stream()
        .map(good -> Arbitraries.frequencyOf(
            Tuple.of(8, good), Tuple.of(1, value()), Tuple.of(1, Arbitraries.<JsonNode>just(null))))
        .toList();
    List<String> names = List.copyOf(FIELDS.keySet());
    Arbitrary<String> line = Combinators.combine(perField).as(values -> {
      ObjectNode o = JSON.createObjectNode();
      for (int i = 0; i < names.size(); i++) {
        if (values.get(i) != null) {
          o.set(names.get(i), values.get(i));
        }
      }
      return o.toString();
    });
    return line.list().ofMinSize(1).ofMaxSize(3).map(lines -> String.join("\n", lines));
  }

  private static final List<String> FRAGMENTS = List.of("", "x", "_", "a _ b.", "\n\nAnswer1: ", " Answer2: ",
      "\n\nSolution1: ", "\n\nOption1: ", " Option2: ", "\n\nAnswer format: ", "answer1/answer2", "?");

  /** The templates' pieces, each kept or (now and then) replaced by a fragment; the contents are fragments. */
  private static Arbitrary<String> template(String... pieces) {
    List<Arbitrary<String>> parts = new ArrayList<>();
    for (String piece : pieces) {
      parts.add(piece == null
          ? Arbitraries.of(FRAGMENTS)
          : Arbitraries.frequencyOf(Tuple.of(9, Arbitraries.just(piece)),
              Tuple.of(1, Arbitraries.of(FRAGMENTS))));
    }
    return Combinators.combine(parts).as(ps -> String.join("", ps));
  }

  /** LLM-Adapters files built from the real templates with arbitrary contents and some pieces broken. */
  @Provide
  Arbitrary<String> structuredAdapters() {
    Arbitrary<String> instruction = Arbitraries.oneOf(
        template("Please answer the following question with true or false, question: ", null,
            "\n\nAnswer format: true/false"),
        template("Please choose the correct solution to the question: ", null, "\n\nSolution1: ", null,
            "\n\nSolution2: ", null, "\n\nAnswer format: solution1/solution2"),
        template("Please choose the correct answer to fill in the blank to complete the given sentence: ", null,
            "\n\nOption1: ", null, " Option2: ", null, " Answer format: option1/option2"),
        template("Please choose the correct answer to the question: ", null, "\n\nAnswer1: ", null, " Answer2: ",
            null, " Answer3: ", null, "\n\nAnswer format: answer1/answer2/answer3"));
    Arbitrary<String> answer = Arbitraries.of("answer1", "answer2", "answer3", "answer0", "answer99999", "option1",
        "option2", "option3", "solution1", "solution2", "true", "false", "");
    return Combinators.combine(instruction, answer).as((i, a) -> {
      ArrayNode root = JSON.createArrayNode();
      root.addObject().put("instruction", i).put("input", "").put("output", "").put("answer", a);
      return root.toString();
    });
  }

  @Property(tries = 200)
  void structuredJsonLines(@ForAll("structuredLines") String content) {
    loadsOrFailsTyped(content, TaskLoaders::arcJsonl);
    loadsOrFailsTyped(content, f -> TaskLoaders.piqaJsonl(f, null));
    loadsOrFailsTyped(content, TaskLoaders::winograndeJsonl);
    loadsOrFailsTyped(content, TaskLoaders::boolqJsonl);
    loadsOrFailsTyped(content, TaskLoaders::hellaswagJsonl);
  }

  @Property(tries = 200)
  void structuredLlmAdapters(@ForAll("structuredAdapters") String content) {
    for (ZeroShotTask task : ZeroShotTask.values()) {
      loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, task));
    }
  }

  private static void loadsOrFailsTyped(String content, Function<Path, List<MultipleChoiceItem>> loader) {
    Path f;
    try {
      f = Files.createTempFile("fuzz", ".txt");
      Files.writeString(f, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      loader.apply(f);
    } catch (TaskFormatException expected) {
      // a clear, typed error is the point
    } finally {
      try {
        Files.deleteIfExists(f);
      } catch (IOException ignored) {
        // a leftover temp file does not change the outcome
      }
    }
  }

  @Property(tries = 150)
  void llmAdaptersArc(@ForAll("adaptersArc") String content) {
    loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, ZeroShotTask.ARC_EASY));
  }

  @Property(tries = 150)
  void llmAdaptersWinogrande(@ForAll("adaptersWino") String content) {
    loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, ZeroShotTask.WINOGRANDE));
  }

  @Property(tries = 150)
  void arcJsonl(@ForAll("arc") String content) {
    loadsOrFailsTyped(content, TaskLoaders::arcJsonl);
  }

  @Property(tries = 150)
  void hellaswagJsonl(@ForAll("hellaswag") String content) {
    loadsOrFailsTyped(content, TaskLoaders::hellaswagJsonl);
  }

  @Property(tries = 150)
  void openBookQaTsv(@ForAll("obqa") String content) {
    loadsOrFailsTyped(content, TaskLoaders::openBookQaTsv);
  }

  @Property(tries = 100)
  void arbitraryText(@ForAll String content) {
    loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, ZeroShotTask.BOOLQ));
    loadsOrFailsTyped(content, f -> TaskLoaders.piqaJsonl(f, null));
    loadsOrFailsTyped(content, TaskLoaders::boolqJsonl);
    loadsOrFailsTyped(content, TaskLoaders::winograndeJsonl);
  }
}
