package sluice.peer;

import java.util.List;
import java.util.Optional;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

/**
 * A sink's serializer to one topic, which it names: the sink's POOLING transaction naming wants to
 * know the topics (KafkaSinkBuilder refuses it otherwise). Not the connector's builder: its lineage
 * facet infers the element type from the key and value schemas, which fails on lambdas.
 */
abstract class ToTopic<T> implements KafkaRecordSerializationSchema<T>, KafkaDatasetFacetProvider {
  final String topic;

  ToTopic(String topic) {
    this.topic = topic;
  }

  @Override
  public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
    return Optional.of(new DefaultKafkaDatasetFacet(DefaultKafkaDatasetIdentifier.ofTopics(List.of(topic))));
  }
}
