package org.rankadaptor.examples.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Seeded generated text in a few domains, for the demo's model: short templated stories whose structure a
 * tiny model can learn (a name introduced and repeated, agreement between a thing and its colour, counting,
 * cause and effect). Words and punctuation are separated by single spaces, so {@link WordTokenizer} needs no
 * rules beyond splitting on spaces.
 *
 * <p>The domains share the grammar words and differ in their content words, so that a model pretrained on
 * all of them and then pruned loses more on some than on others: the target and the source tasks of the
 * demo's search are the perplexities of held-out text of different domains.
 */
public final class DemoCorpus {

  /** The domains: each a kind of story. */
  public enum Domain {
    /** Children and animals playing: the demo's target. */
    PETS,
    /** Cooking and eating. */
    KITCHEN,
    /** Weather and what people do about it. */
    WEATHER,
    /** Counting objects. */
    COUNTING;

    /** Lower-case name, used in task ids. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final String[] NAMES = {"lily", "tom", "mia", "ben", "sue", "max", "anna", "sam"};
  private static final String[] COLOURS = {"red", "blue", "green", "yellow", "big", "small", "soft", "old"};
  private static final String[] ANIMALS = {"cat", "dog", "bird", "fish", "frog", "bunny", "duck", "horse"};
  private static final String[] TOYS = {"ball", "kite", "box", "stick", "hat", "boat", "car", "doll"};
  private static final String[] PLAY = {"runs after", "jumps over", "looks at", "plays with", "sits on"};
  private static final String[] FOODS = {"soup", "bread", "cake", "rice", "eggs", "pie", "salad", "pasta"};
  private static final String[] COOK = {"cooks", "bakes", "mixes", "cuts", "warms"};
  private static final String[] TASTES = {"sweet", "hot", "good", "warm", "fresh"};
  private static final String[] WEATHERS = {"rain", "snow", "sun", "wind", "fog"};
  private static final String[] WEATHER_ACTS = {
    "takes an umbrella", "builds a snowman", "goes to the beach", "flies a kite", "stays inside"};
  private static final String[] DAYS = {"monday", "tuesday", "friday", "sunday"};
  private static final String[] NUMBERS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  private static final String[] THINGS = {"apples", "stones", "shells", "books", "cups", "coins"};

  private DemoCorpus() {}

  /**
   * {@code stories} stories of one domain, one per line.
   *
   * @param seed chooses every word; the same seed gives the same text
   */
  public static String generate(Domain domain, int stories, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < stories; i++) {
      sb.append(story(domain, random)).append('\n');
    }
    return sb.toString();
  }

  /** {@code stories} stories with the domains taken in turn, one per line: general text. */
  public static String mixed(int stories, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Domain[] domains = Domain.values();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < stories; i++) {
      sb.append(story(domains[i % domains.length], random)).append('\n');
    }
    return sb.toString();
  }

  /** Every word the generator can write, sorted. */
  public static List<String> vocabulary() {
    TreeSet<String> words = new TreeSet<>();
    for (String[] list : new String[][] {
        NAMES, COLOURS, ANIMALS, TOYS, PLAY, FOODS, COOK, TASTES, WEATHERS, WEATHER_ACTS, DAYS, NUMBERS, THINGS}) {
      for (String phrase : list) {
        Collections.addAll(words, phrase.split(" "));
      }
    }
    // Words of the templates themselves.
    Collections.addAll(words, (
        "the a has and likes with . , : is it then so because on when there are more than too it's all"
        + " day after puts them in basket counts now he she they eat eats says yum happy sad").split(" "));
    for (String n : NUMBERS) {
      words.add(n);
    }
    return List.copyOf(words);
  }

  private static String story(Domain domain, SplittableRandom r) {
    return switch (domain) {
      case PETS -> pets(r);
      case KITCHEN -> kitchen(r);
      case WEATHER -> weather(r);
      case COUNTING -> counting(r);
    };
  }

  // A name and an object are introduced, then referred to again: the model must copy them.
  private static String pets(SplittableRandom r) {
    String name = pick(r, NAMES);
    String animal = pick(r, ANIMALS);
    String colour = pick(r, COLOURS);
    String toy = pick(r, TOYS);
    String play = pick(r, PLAY);
    return name + " has a " + colour + " " + animal + " . the " + animal + " likes the " + toy + " . the "
        + colour + " " + animal + " " + play + " the " + toy + " . " + name + " is happy .";
  }

  private static String kitchen(SplittableRandom r) {
    String name = pick(r, NAMES);
    String food = pick(r, FOODS);
    String cook = pick(r, COOK);
    String taste = pick(r, TASTES);
    String other = pick(r, NAMES);
    return name + " " + cook + " the " + food + " . the " + food + " is " + taste + " . " + name + " and "
        + other + " eat the " + taste + " " + food + " . " + other + " says yum .";
  }

  // The activity follows from the weather: index i of WEATHERS goes with index i of WEATHER_ACTS.
  private static String weather(SplittableRandom r) {
    int w = r.nextInt(WEATHERS.length);
    String name = pick(r, NAMES);
    String day = pick(r, DAYS);
    return "on " + day + " there is " + WEATHERS[w] + " . so " + name + " " + WEATHER_ACTS[w] + " . " + name
        + " " + WEATHER_ACTS[w] + " because there is " + WEATHERS[w] + " .";
  }

  // Counting up from a start: each number follows the previous one.
  private static String counting(SplittableRandom r) {
    String name = pick(r, NAMES);
    String thing = pick(r, THINGS);
    int start = r.nextInt(NUMBERS.length - 3);
    int length = 3 + r.nextInt(NUMBERS.length - start - 2);
    StringBuilder sb = new StringBuilder(name + " counts the " + thing + " :");
    List<String> counted = new ArrayList<>();
    for (int i = start; i < start + length; i++) {
      counted.add(NUMBERS[i]);
    }
    sb.append(' ').append(String.join(" , ", counted)).append(" . now there are ")
        .append(NUMBERS[start + length - 1]).append(' ').append(thing).append(" .");
    return sb.toString();
  }

  private static String pick(SplittableRandom r, String[] words) {
    return words[r.nextInt(words.length)];
  }
}
