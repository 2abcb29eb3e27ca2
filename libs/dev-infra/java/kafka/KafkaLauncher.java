// Starts the Kafka broker (kafka.Kafka) and, with -Dfunnel.exitOnStdinEof=true, shuts it down cleanly
// when standard input closes. @funnel/dev-infra keeps a pipe to this stdin, so the broker follows the Node process
// that started it even if that process is SIGKILLed and never gets to stop its children.
// Compiled and cached by @funnel/dev-infra; also runs as a single-file program: java -cp <classpath> KafkaLauncher.java <server.properties>

public class KafkaLauncher {
    public static void main(String[] args) throws Exception {
        if (Boolean.getBoolean("funnel.exitOnStdinEof")) {
            Thread watcher = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // input is not used; only its end matters
                    }
                } catch (java.io.IOException ignored) {
                    // a broken pipe means the same as end of input
                }
                // System.exit runs Kafka's shutdown hook: a controlled shutdown that leaves the log dirs clean.
                System.exit(0);
            }, "funnel-parent-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
        kafka.Kafka.main(args);
    }
}
