// The secured node's topics, late SCRAM user and ACLs, in one JVM.
//
// Run by `scripts/kafka.sh secure-up` through Java's source launcher:
//   java -cp '<kafka libs>/*' SecureSetup.java ADMIN_PROPERTIES PROBE_PROPERTIES PROBE_BOOTSTRAP
// ADMIN_PROPERTIES is a client config (with bootstrap.servers) for the
// super user; PROBE_PROPERTIES (dave's, with PROBE_BOOTSTRAP) is used to see
// the ACLs take effect. Each Kafka tool (TopicCommand, AclCommand,
// ConfigCommand) would be a JVM of its own: about fifteen of them.
// Everything here is idempotent, so a re-run after a failure is safe.
// The ACL scheme is documented in integration/kafka/README.md.

import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class SecureSetup {
    static final String WEIRD = "we,ird=user";

    static final List<AclBinding> ACLS = new ArrayList<>();

    static void allow(String user, AclOperation op, ResourceType type, String name, PatternType pattern) {
        ACLS.add(new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW)));
    }

    static void allow(String user, AclOperation op, ResourceType type, String name) {
        allow(user, op, type, name, PatternType.LITERAL);
    }

    static Properties load(String path, String bootstrap) throws IOException {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(path)) {
            props.load(in);
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return props;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: SecureSetup ADMIN_PROPERTIES ADMIN_BOOTSTRAP PROBE_PROPERTIES PROBE_BOOTSTRAP");
            System.exit(2);
        }
        try (Admin admin = Admin.create(load(args[0], args[1]))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String t : new String[] {"acl-ok", "acl-nowrite", "acl-hidden", "secure-tls", "secure-sasl", "secure-reauth"}) {
                topics.add(new NewTopic(t, 3, (short) 1));
            }
            admin.createTopics(topics).values().forEach((name, f) -> {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw new RuntimeException("topic " + name, e.getCause());
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });

            // StorageTool's --add-scram splits at every comma, so this user comes here.
            List<UserScramCredentialUpsertion> scram = new ArrayList<>();
            for (ScramMechanism m : new ScramMechanism[] {ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512}) {
                scram.add(new UserScramCredentialUpsertion(WEIRD, new ScramCredentialInfo(m, 4096), WEIRD + "-secret"));
            }
            // One change per user and request: the controller refuses two.
            for (UserScramCredentialUpsertion u : scram) admin.alterUserScramCredentials(List.of(u)).all().get();

            // alice, the mTLS client, TLS without a certificate and the escaping user: every topic.
            for (String u : new String[] {"alice", "alice-client", "ANONYMOUS", WEIRD}) {
                allow(u, AclOperation.ALL, ResourceType.TOPIC, "*");
                allow(u, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster");
                if (!u.equals("alice")) allow(u, AclOperation.READ, ResourceType.GROUP, "*");
            }
            allow("alice", AclOperation.ALL, ResourceType.GROUP, "*");
            allow("alice", AclOperation.ALL, ResourceType.TRANSACTIONAL_ID, "*");
            // carol: read + write acl-ok*, describe acl-nowrite, nothing on acl-hidden,
            // transactional ids acl-txn-ok*, group acl-group-ok. Read on acl-ok* is what
            // lets TxnOffsetCommit in acl-group-ok succeed (it checks Read on each topic),
            // so that a denied group is the only reason it fails in acl-group-denied.
            for (AclOperation op : new AclOperation[] {AclOperation.WRITE, AclOperation.DESCRIBE}) {
                allow("carol", op, ResourceType.TOPIC, "acl-ok", PatternType.PREFIXED);
                allow("carol", op, ResourceType.TRANSACTIONAL_ID, "acl-txn-ok", PatternType.PREFIXED);
            }
            allow("carol", AclOperation.READ, ResourceType.TOPIC, "acl-ok", PatternType.PREFIXED);
            allow("carol", AclOperation.DESCRIBE, ResourceType.TOPIC, "acl-nowrite");
            allow("carol", AclOperation.READ, ResourceType.GROUP, "acl-group-ok");
            admin.createAcls(ACLS).all().get();
            // dave's ACL comes last, alone: once the broker's authorizer knows
            // it, it knows every ACL before it (the metadata log is applied in order).
            ACLS.clear();
            allow("dave", AclOperation.DESCRIBE, ResourceType.TOPIC, "acl-ok");
            admin.createAcls(ACLS).all().get();
        }

        long deadline = System.currentTimeMillis() + 30_000;
        Properties probe = load(args[2], args[3]);
        probe.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        probe.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        try (Admin dave = Admin.create(probe)) {
            while (true) {
                try {
                    dave.describeTopics(List.of("acl-ok")).allTopicNames().get();
                    return;
                } catch (ExecutionException e) {
                    if (System.currentTimeMillis() > deadline) throw new RuntimeException("the ACLs did not take effect within 30 s", e.getCause());
                    Thread.sleep(200);
                }
            }
        }
    }
}
