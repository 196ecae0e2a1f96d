package rmq.interop;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.remoting.protocol.subscription.SubscriptionGroupConfig;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.apache.rocketmq.remoting.protocol.heartbeat.MessageModel;

/** What moved between the 4.x and 5.x client packages, for 5.x. */
final class Compat {
    private Compat() {}

    /** Checks of features only the 5.x client has (POP over remoting). */
    static java.util.List<Check> versionChecks() {
        return PopChecks.all();
    }

    /** Sets the producer's body compression (ZLIB, LZ4, ZSTD); false: this client has only zlib. */
    static boolean compress(org.apache.rocketmq.client.producer.DefaultMQProducer p, String type) {
        p.setCompressType(org.apache.rocketmq.common.compression.CompressionType.valueOf(type));
        return true;
    }

    static void broadcasting(DefaultMQPushConsumer c) {
        c.setMessageModel(MessageModel.BROADCASTING);
    }

    static void createGroup(DefaultMQAdminExt a, String addr, String group, int retryMaxTimes) throws Exception {
        SubscriptionGroupConfig cfg = new SubscriptionGroupConfig();
        cfg.setGroupName(group);
        cfg.setRetryMaxTimes(retryMaxTimes);
        a.createAndUpdateSubscriptionGroupConfig(addr, cfg);
    }

    /** The group's retryMaxTimes as the broker has it, or -1 if it has no such group. */
    static int groupRetryMaxTimes(DefaultMQAdminExt a, String addr, String group) throws Exception {
        SubscriptionGroupConfig cfg = a.examineSubscriptionGroupConfig(addr, group);
        return cfg == null ? -1 : cfg.getRetryMaxTimes();
    }

    static boolean groupListed(DefaultMQAdminExt a, String addr, String group) throws Exception {
        return a.getAllSubscriptionGroup(addr, 5000).getSubscriptionGroupTable().containsKey(group);
    }

    /** DELETE_TOPIC_IN_NAMESRV for one cluster: 4.x declares (addrs, topic, clusterName), 5.x
     * (addrs, clusterName, topic); both are Strings, so a swapped call compiles and deletes nothing. */
    static void deleteTopicInNameServer(DefaultMQAdminExt a, java.util.Set<String> addrs, String cluster, String topic)
            throws Exception {
        a.deleteTopicInNameServer(addrs, cluster, topic);
    }
}
