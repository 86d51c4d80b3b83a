package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Damaged companions of a checkpoint: config.json, the shard index, tokenizer.json and both files of a
 * PEFT adapter. Each reader must succeed or throw a {@link FileFormatException} naming the damaged file.
 */
class FormatFuzzTest {

  private static Path dir;

  @BeforeContainer
  static void createDir() throws IOException {
    dir = Files.createTempDirectory("format-fuzz");
  }

  @AfterContainer
  static void deleteDir() throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Provide
  Arbitrary<byte[]> damagedConfig() {
    HfLlamaConfig config =
        HfLlamaConfig.of(64, 172, 2, 8, 4, 512, 512)
            .withLayerConfigs(List.of(new HfLlamaConfig.LayerConfig(8, 4, 172), new HfLlamaConfig.LayerConfig(4, 2, 90)));
    return Mutations.of(utf8(config.toJson()));
  }

  @Property(tries = 150)
  void configJson(@ForAll("damagedConfig") byte[] bytes) throws Exception {
    Mutations.assertReadsOrRejects(dir.resolve("config.json"), bytes, HfLlamaConfig::read);
  }

  @Provide
  Arbitrary<byte[]> damagedIndex() throws IOException {
    Path shards = Files.createDirectories(dir.resolve("shards"));
    new SafetensorsWriter().add("a", new float[] {1, 2}, 2).write(shards.resolve("s1.safetensors"));
    new SafetensorsWriter().add("b", new float[] {3}, 1).write(shards.resolve("s2.safetensors"));
    return Mutations.of(utf8("{\"metadata\":{\"total_size\":12},\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}"));
  }

  @Property(tries = 150)
  void shardIndex(@ForAll("damagedIndex") byte[] bytes) throws Exception {
    Mutations.assertReadsOrRejects(
        dir.resolve("shards").resolve(SafetensorsSource.INDEX_FILE_NAME),
        bytes,
        index -> {
          try (SafetensorsSource source = SafetensorsSource.open(index)) {
            for (String name : source.tensorNames()) {
              source.readFloats(name);
            }
          }
        });
  }

  @Provide
  Arbitrary<byte[]> damagedTokenizer() {
    return Mutations.of(utf8(HfTokenizerTest.WORD_LEVEL));
  }

  @Property(tries = 100)
  void tokenizerJson(@ForAll("damagedTokenizer") byte[] bytes) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("tokenizer"));
    Mutations.assertReadsOrRejects(
        folder.resolve("tokenizer.json"),
        bytes,
        file -> {
          try (HfTokenizer tokenizer = HfTokenizer.load(file)) {
            tokenizer.decode(tokenizer.encode("once upon a time", true, true));
          }
        });
  }

  private static Path adapterFolder() throws IOException {
    Path folder = dir.resolve("adapter");
    if (!Files.exists(folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME))) {
      PeftLoraAdapter.of("base", 0.05, PeftLoraAdapterTest.modules()).write(folder, SafetensorsDType.BF16, Map.of("k", "v"));
    }
    return folder;
  }

  @Provide
  Arbitrary<byte[]> damagedAdapterConfig() throws IOException {
    return Mutations.of(Files.readAllBytes(adapterFolder().resolve(PeftLoraConfig.FILE_NAME)));
  }

  @Property(tries = 150)
  void adapterConfig(@ForAll("damagedAdapterConfig") byte[] bytes) throws Exception {
    Path folder = adapterFolder();
    byte[] original = Files.readAllBytes(folder.resolve(PeftLoraConfig.FILE_NAME));
    try {
      // A damaged config can also show as weights that no longer match it (a renamed target module).
      Mutations.assertReadsOrRejects(
          folder.resolve(PeftLoraConfig.FILE_NAME),
          java.util.Set.of(folder.resolve(PeftLoraConfig.FILE_NAME), folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME)),
          bytes,
          file -> PeftLoraAdapter.read(folder));
    } finally {
      Files.write(folder.resolve(PeftLoraConfig.FILE_NAME), original);
    }
  }

  @Provide
  Arbitrary<byte[]> damagedAdapterWeights() throws IOException {
    return Mutations.of(Files.readAllBytes(adapterFolder().resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME)));
  }

  @Property(tries = 150)
  void adapterWeights(@ForAll("damagedAdapterWeights") byte[] bytes) throws Exception {
    Path folder = adapterFolder();
    byte[] original = Files.readAllBytes(folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME));
    try {
      Mutations.assertReadsOrRejects(
          folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME), bytes, file -> PeftLoraAdapter.read(folder));
    } finally {
      Files.write(folder.resolve(PeftLoraAdapter.WEIGHTS_FILE_NAME), original);
    }
  }
}
