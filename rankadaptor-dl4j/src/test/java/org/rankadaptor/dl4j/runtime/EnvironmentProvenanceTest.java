package org.rankadaptor.dl4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The round trip of the environment is covered with the whole run's provenance, in {@code RunFolderTest}. */
class EnvironmentProvenanceTest {

  /** The build filters the version resource, so even the build's own classes know the project's version. */
  @Test
  void theLibraryVersionIsTheProjectsNotThePlaceholder() {
    assertThat(EnvironmentProvenance.currentLibraryVersion())
        .isNotEqualTo(EnvironmentProvenance.DEV_VERSION)
        .matches("\\d+\\.\\d+\\.\\d+.*");
  }
}
