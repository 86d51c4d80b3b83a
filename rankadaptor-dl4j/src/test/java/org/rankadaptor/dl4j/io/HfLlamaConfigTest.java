package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfLlamaConfigTest {

  @TempDir Path dir;

  // The config.json of meta-llama/Llama-2-7b-hf as published, fields in its order.
  static final String LLAMA_2_7B =
      """
      {
        "_name_or_path": "meta-llama/Llama-2-7b-hf",
        "architectures": ["LlamaForCausalLM"],
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 4096,
        "initializer_range": 0.02,
        "intermediate_size": 11008,
        "max_position_embeddings": 4096,
        "model_type": "llama",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 32,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": null,
        "tie_word_embeddings": false,
        "torch_dtype": "float16",
        "transformers_version": "4.31.0.dev0",
        "use_cache": true,
        "vocab_size": 32000
      }
      """;

  private Path file(String json) throws IOException {
    return Files.writeString(dir.resolve("config.json"), json);
  }

  @Test
  void readsAPublishedLlamaConfigIgnoringUnknownFields() throws IOException {
    HfLlamaConfig config = HfLlamaConfig.read(file(LLAMA_2_7B));
    assertEquals(
        new HfLlamaConfig(4096, 11008, 32, 32, 32, 32000, 1e-5, 10000.0, 4096, false, 128, List.of()), config);
    assertFalse(config.isPruned());
    assertEquals(new HfLlamaConfig.LayerConfig(32, 32, 11008), config.layerConfig(31));
  }

  @Test
  void appliesTransformersDefaultsToOptionalFields() throws IOException {
    HfLlamaConfig config = HfLlamaConfig.read(file(
        "{\"hidden_size\":64,\"intermediate_size\":172,\"num_hidden_layers\":5,"
            + "\"num_attention_heads\":8,\"vocab_size\":512}"));
    assertEquals(8, config.numKeyValueHeads());
    assertEquals(8, config.headDim());
    assertEquals(1e-6, config.rmsNormEps());
    assertEquals(10000.0, config.ropeTheta());
    assertEquals(2048, config.maxPositionEmbeddings());
    assertFalse(config.tieWordEmbeddings());
  }

  @Test
  void prunedConfigRoundTripsWithItsLayerShapes() throws IOException {
    HfLlamaConfig pruned =
        HfLlamaConfig.of(64, 172, 3, 8, 4, 512, 512)
            .withLayerConfigs(List.of(
                new HfLlamaConfig.LayerConfig(8, 4, 172),
                new HfLlamaConfig.LayerConfig(6, 3, 120),
                new HfLlamaConfig.LayerConfig(2, 1, 40)));
    Path path = dir.resolve("pruned.json");
    pruned.write(path);
    String text = Files.readString(path);
    assertTrue(text.contains("\"rankadaptor_layer_shapes\""), text);
    assertTrue(text.contains("\"LlamaForCausalLM\""), text);
    HfLlamaConfig read = HfLlamaConfig.read(path);
    assertEquals(pruned, read);
    assertTrue(read.isPruned());
    assertEquals(new HfLlamaConfig.LayerConfig(6, 3, 120), read.layerConfig(1));
    HfLlamaConfig plain = HfLlamaConfig.read(file(HfLlamaConfig.of(64, 172, 3, 8, 4, 512, 512).toJson()));
    assertEquals(HfLlamaConfig.of(64, 172, 3, 8, 4, 512, 512), plain);
  }

  private FileFormatException rejected(String json) throws IOException {
    Path path = file(json);
    FileFormatException e = assertThrows(FileFormatException.class, () -> HfLlamaConfig.read(path));
    assertEquals(path, e.file());
    return e;
  }

  private static String base(String replace, String with) {
    return "{\"hidden_size\":64,\"intermediate_size\":172,\"num_hidden_layers\":2,"
        .concat("\"num_attention_heads\":8,\"num_key_value_heads\":4,\"vocab_size\":512}")
        .replace(replace, with);
  }

  @Test
  void rejectsInvalidConfigsWithTheFieldNamed() throws IOException {
    assertTrue(rejected(base("\"num_key_value_heads\":4", "\"num_key_value_heads\":3")).getMessage()
        .contains("does not divide"));
    assertTrue(rejected(base("\"hidden_size\":64", "\"hidden_size\":60")).getMessage().contains("hidden_size"));
    assertTrue(rejected(base("\"intermediate_size\":172", "\"intermediate_size\":-1")).getMessage()
        .contains("intermediate_size"));
    assertEquals("vocab_size", rejected(base(",\"vocab_size\":512", "")).item().orElseThrow());
    assertEquals("vocab_size", rejected(base("512", "\"512\"")).item().orElseThrow());
    assertEquals("vocab_size", rejected(base("512", "5000000000")).item().orElseThrow());
    assertEquals("model_type", rejected(base("{", "{\"model_type\":\"gpt2\",")).item().orElseThrow());
    assertTrue(rejected(base("}", ",\"rms_norm_eps\":-1}")).getMessage().contains("rms_norm_eps"));
    assertTrue(rejected(base("}", ",\"rankadaptor_layer_shapes\":[{\"num_attention_heads\":8,"
        + "\"num_key_value_heads\":4,\"intermediate_size\":10}]}")).getMessage().contains("1 entries for 2 layers"));
    FileFormatException e = rejected(base("}", ",\"rankadaptor_layer_shapes\":["
        + "{\"num_attention_heads\":8,\"num_key_value_heads\":4,\"intermediate_size\":10},"
        + "{\"num_attention_heads\":6,\"num_key_value_heads\":4,\"intermediate_size\":10}]}"));
    assertEquals("rankadaptor_layer_shapes[1]", e.item().orElseThrow());
    assertEquals("rankadaptor_layer_shapes[0].intermediate_size",
        rejected(base("}", ",\"rankadaptor_layer_shapes\":[{\"num_attention_heads\":8,\"num_key_value_heads\":4},"
            + "{}]}")).item().orElseThrow());
    rejected("[1, 2]");
    rejected("{\"hidden_size\": 64,");
    rejected(base("\"hidden_size\":64", "\"hidden_size\":64,\"hidden_size\":64"));
  }

  @Test
  void refusesWhatTheModelDoesNotImplementAndValuesNoModelHas() throws IOException {
    assertEquals("hidden_act", rejected(base("}", ",\"hidden_act\":\"gelu\"}")).item().orElseThrow());
    assertEquals("attention_bias", rejected(base("}", ",\"attention_bias\":true}")).item().orElseThrow());
    assertEquals("mlp_bias", rejected(base("}", ",\"mlp_bias\":true}")).item().orElseThrow());
    assertEquals("rms_norm_eps", rejected(base("}", ",\"rms_norm_eps\":1e20}")).item().orElseThrow());
    assertEquals("rope_theta", rejected(base("}", ",\"rope_theta\":1e-320}")).item().orElseThrow());
    assertEquals("rope_theta", rejected(base("}", ",\"rope_theta\":1e30}")).item().orElseThrow());
    // What published LLaMA configs say is accepted.
    HfLlamaConfig.read(file(base("}", ",\"hidden_act\":\"silu\",\"attention_bias\":false,\"mlp_bias\":false,"
        + "\"rms_norm_eps\":1e-6,\"rope_theta\":500000.0}")));
  }

  @Test
  void constructorValidatesDirectlyToo() {
    assertThrows(IllegalArgumentException.class,
        () -> new HfLlamaConfig(64, 172, 2, 8, 3, 512, 1e-5, 1e4, 512, false, 8, List.of()));
    assertThrows(IllegalArgumentException.class,
        () -> new HfLlamaConfig(64, 172, 2, 8, 4, 512, 1e-5, 1e4, 512, false, 7, List.of()));
    assertThrows(IllegalArgumentException.class, () -> new HfLlamaConfig.LayerConfig(0, 1, 1));
    assertThrows(IndexOutOfBoundsException.class, () -> HfLlamaConfig.of(64, 172, 2, 8, 4, 512, 512).layerConfig(2));
  }
}
