using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging.Abstractions;
using AkkaLogLevel = Akka.Event.LogLevel;

namespace Ledger.Host.Logging;

/// <summary>
/// An Akka logger that hands every log event to Microsoft.Extensions.Logging, so that with
/// <c>Ledger:LogFormat=json</c> the node writes one JSON object per line for Akka and ASP.NET alike (category = the
/// Akka log source). Installed through <c>akka.loggers</c>; <see cref="Factory"/> is set before the actor system starts.
/// </summary>
public sealed partial class AkkaLogBridge : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public static ILoggerFactory Factory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>
    /// The bridge as Akka's logger, Akka's own stdout logger quiet below errors. (Akka still prints its very last line,
    /// "Remoting shut down.", to stdout at exit, after its loggers have stopped.)
    /// </summary>
    public const string HoconLoggers = "akka.loggers = [\"Ledger.Host.Logging.AkkaLogBridge, Ledger.Host\"]\nakka.stdout-loglevel = ERROR\nakka.remote.log-remote-lifecycle-events = off";

    public AkkaLogBridge()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            var logger = Factory.CreateLogger(e.LogSource ?? "akka");
            var level = Level(e.LogLevel());
            if (logger.IsEnabled(level)) Write(logger, level, e.Cause, e.Message);
        });
    }

    [LoggerMessage(Message = "{Message}")]
    private static partial void Write(ILogger logger, Microsoft.Extensions.Logging.LogLevel level, Exception? cause, object message);

    private static Microsoft.Extensions.Logging.LogLevel Level(AkkaLogLevel level) => level switch
    {
        AkkaLogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
        AkkaLogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
        AkkaLogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
        _ => Microsoft.Extensions.Logging.LogLevel.Error,
    };
}
