// Smoke test for the local broker started by deploy/infra.sh: creates a topic
// (if missing), produces one record and reads it back. Uses only kafka-clients,
// which is among the broker jars, and runs as a single-file program (needs a
// JDK, not just a JRE):
//
//   java -cp "$ZHIJIA_CACHE/kafka/libs/*" deploy/kafka/KafkaSmoke.java 127.0.0.1:9092
//
// (or simply: deploy/infra.sh smoke). Exits 0 on success.

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class KafkaSmoke {
    public static void main(String[] args) throws Exception {
        String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:9092";
        String topic = args.length > 1 ? args[1] : "zhijia.infra-smoke";
        String payload = "smoke-" + UUID.randomUUID();

        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        common.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        common.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");

        try (Admin admin = Admin.create(common)) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
                System.out.println("created topic " + topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
                System.out.println("topic " + topic + " exists");
            }
            String clusterId = admin.describeCluster().clusterId().get();
            System.out.println("cluster id " + clusterId);
        }

        Properties p = new Properties();
        p.putAll(common);
        p.remove(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        RecordMetadata meta;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            meta = producer.send(new ProducerRecord<>(topic, "smoke", payload)).get();
        }
        System.out.printf("produced %s to %s-%d@%d%n", payload, meta.topic(), meta.partition(), meta.offset());

        Properties c = new Properties();
        c.putAll(common);
        c.remove(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "zhijia-infra-smoke-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        long deadline = System.currentTimeMillis() + 30_000;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(Set.of(topic));
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (payload.equals(r.value())) {
                        System.out.printf("consumed %s from %s-%d@%d%n", r.value(), r.topic(), r.partition(), r.offset());
                        System.out.println("kafka smoke test OK");
                        return;
                    }
                }
            }
        }
        System.err.println("kafka smoke test FAILED: record not consumed within 30 s");
        System.exit(1);
    }
}
