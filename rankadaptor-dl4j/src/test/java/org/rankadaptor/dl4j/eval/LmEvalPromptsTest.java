package org.rankadaptor.dl4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LmEvalPromptsTest {

  @Test
  void boolqWithAndWithoutPassage() {
    MultipleChoiceItem with = LmEvalPrompts.boolq("0", "Ethanol is a fuel.", "is ethanol a fuel", true);
    assertThat(with.contexts()).containsExactly("Ethanol is a fuel.\nQuestion: is ethanol a fuel?\nAnswer:");
    assertThat(with.continuation(0)).isEqualTo(" no");
    assertThat(with.continuation(1)).isEqualTo(" yes");
    assertThat(with.gold()).isEqualTo(1);
    MultipleChoiceItem without = LmEvalPrompts.boolq("0", "", "is ethanol a fuel", false);
    assertThat(without.contexts()).containsExactly("Question: is ethanol a fuel?\nAnswer:");
    assertThat(without.gold()).isZero();
  }

  @Test
  void hellaswagCleansBracketsAndCapitalisesCtxB() {
    MultipleChoiceItem item = LmEvalPrompts.hellaswag("7", "Making a cake",
        "[header] How to bake a cake [title] Preheat the oven.", "then MIX the flour",
        List.of(" [step] Pour the batter.  Wait. ", "Eat it raw."), 0);
    // Python: preprocess("Making a cake: " + ctx_a + " " + "then MIX the flour".capitalize())
    assertThat(item.contexts()).containsExactly("Making a cake: How to bake a cake. Preheat the oven. Then mix the flour");
    assertThat(item.choices()).containsExactly(" Pour the batter. Wait.", "Eat it raw.");
    assertThat(LmEvalPrompts.hellaswagPreprocess("a [b] [c]d")).isEqualTo("a d");
    assertThat(LmEvalPrompts.capitalize("éCOLE")).isEqualTo("École");
    assertThat(LmEvalPrompts.capitalize("")).isEmpty();
  }

  @Test
  void winograndeSplitsAtTheFirstBlank() {
    MultipleChoiceItem item = LmEvalPrompts.winogrande("w", "A _ and _ b ", "x", "y", 1);
    assertThat(item.contexts()).containsExactly("A x", "A y");
    assertThat(item.choices()).containsExactly("and _ b");
  }

  @Test
  void questionTasks() {
    assertThat(LmEvalPrompts.piqa("p", "Open a jar", "twist", "pull", 0).contexts())
        .containsExactly("Question: Open a jar\nAnswer:");
    assertThat(LmEvalPrompts.arc("a", "Why?", List.of("x", "y"), 1).contexts())
        .containsExactly("Question: Why?\nAnswer:");
    assertThat(LmEvalPrompts.openBookQa("o", "The sun is", List.of("hot", "cold"), 0).contexts())
        .containsExactly("The sun is");
  }
}
