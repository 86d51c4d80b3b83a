package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.testing.SharedFiles;

/**
 * The README's Java, kept true: every {@code java} block compiles against the library as a user gets it,
 * and the quick start runs on the shared stories260K model to PEFT adapters. A block that is not a
 * whole file is a method body whose first line, {@code // given: Type name, ...}, declares what it
 * assumes; it is compiled with those as parameters, {@code MyModel} standing for a user's model type.
 */
class ReadmeSnippetsTest {
  @TempDir Path dir;

  private static final Path README = Path.of("..", "README.md");
  private static final Pattern BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern GIVEN = Pattern.compile("^// given: (.*)$", Pattern.MULTILINE);
  private static final Pattern PUBLIC_CLASS = Pattern.compile("public class (\\w+)");
  private static final List<String> IMPORTS = List.of("org.rankadaptor.*", "org.rankadaptor.predictor.*",
      "org.rankadaptor.dl4j.*", "org.rankadaptor.dl4j.io.*", "org.rankadaptor.dl4j.llama.*",
      "org.rankadaptor.dl4j.prune.*", "org.rankadaptor.dl4j.recover.*", "org.rankadaptor.dl4j.eval.*",
      "org.rankadaptor.dl4j.predictor.*", "org.rankadaptor.spark.*", "org.apache.spark.SparkConf",
      "org.apache.spark.api.java.JavaSparkContext", "org.nd4j.linalg.api.buffer.DataType", "java.io.*",
      "java.nio.file.*", "java.util.*");

  @Test
  void everyJavaBlockCompilesAndTheQuickStartRunsToPeftAdapters() throws Exception {
    List<String> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(Files.readString(README));
    while (m.find()) {
      blocks.add(m.group(1));
    }
    assertThat(blocks).as("java blocks in the README").hasSizeGreaterThanOrEqualTo(5);
    List<Path> sources = new ArrayList<>();
    String quickStart = null;
    for (int i = 0; i < blocks.size(); i++) {
      String block = blocks.get(i);
      Matcher whole = PUBLIC_CLASS.matcher(block);
      if (whole.find()) {
        sources.add(Files.writeString(dir.resolve(whole.group(1) + ".java"), block));
        quickStart = quickStart == null ? whole.group(1) : quickStart;
        continue;
      }
      Matcher given = GIVEN.matcher(block);
      String parameters = given.find() ? given.group(1).trim() : "";
      String name = "Snippet" + (i + 1);
      StringBuilder unit = new StringBuilder();
      IMPORTS.forEach(imp -> unit.append("import ").append(imp).append(";\n"));
      unit.append("class ").append(name).append(" {\n  static class MyModel {}\n\n  void run(").append(parameters)
          .append(") throws Exception {\n").append(block).append("  }\n}\n");
      sources.add(Files.writeString(dir.resolve(name + ".java"), unit.toString()));
    }
    Path classes = Files.createDirectories(dir.resolve("classes"));
    compile(sources, classes);
    assertThat(quickStart).as("a whole-file quick start").isEqualTo("QuickStart");

    Path model = SharedFiles.require("data/models/stories260K/stories260K.bin");
    Path tokenizer = SharedFiles.require("data/models/stories260K/tok512.bin");
    Path text = SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt");
    Path out = dir.resolve("quickstart");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
        getClass().getClassLoader())) {
      Method main = loader.loadClass(quickStart).getMethod("main", String[].class);
      main.invoke(null, (Object) new String[] {model.toString(), tokenizer.toString(), text.toString(), out.toString()});
    }
    assertThat(out.resolve("adapters/adapter_config.json")).isRegularFile();
    assertThat(out.resolve("adapters/adapter_model.safetensors")).isRegularFile();
    assertThat(Files.readString(out.resolve("result.json"))).contains("\"best\"");
    assertThat(Files.lines(out.resolve("observations.jsonl")).count()).isGreaterThanOrEqualTo(8);
  }

  private static void compile(List<Path> sources, Path classes) throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
      List<String> options = List.of("-d", classes.toString(), "-classpath", System.getProperty("java.class.path"),
          "--release", "17", "-proc:none");
      boolean ok = javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjectsFromPaths(sources))
          .call();
      List<String> errors = diagnostics.getDiagnostics().stream()
          .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
          .map(d -> d.getSource().getName() + ":" + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT))
          .toList();
      assertThat(errors).as("compiling the README's Java").isEmpty();
      assertThat(ok).isTrue();
    }
  }
}
