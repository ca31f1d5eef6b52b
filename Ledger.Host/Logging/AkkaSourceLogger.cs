using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Hosting.Logging;
using AkkaLogLevel = Akka.Event.LogLevel;

namespace Ledger.Host.Logging;

/// <summary>
/// Akka.Hosting's logger-factory logger, writing each Akka log event under its log source as the category ("Cluster
/// (akka://ledger)", …) with the event's message alone. The stock logger writes every event under one category
/// (<c>Akka.Actor.ActorSystem</c>) with Akka's own text header in the message; with <c>Ledger:LogFormat=json</c> the
/// category is what a reader filters on.
/// </summary>
public sealed partial class AkkaSourceLogger : LoggerFactoryLogger
{
    private readonly ILoggerFactory _factory = Context.System.Settings.Setup.Get<LoggerFactorySetup>().Value.LoggerFactory;

    protected override void Log(LogEvent log, ActorPath path)
    {
        var logger = _factory.CreateLogger(log.LogSource ?? "akka");
        var level = Level(log.LogLevel());
        if (logger.IsEnabled(level)) Write(logger, level, log.Cause, log.Message);
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

public static class HostLogging
{
    /// <summary>
    /// Akka's log events go to the host's logger factory (<see cref="AkkaSourceLogger"/>) instead of Akka's stdout logger,
    /// which stays quiet below errors. (Akka still prints its very last line, "Remoting shut down.", to stdout at exit,
    /// after its loggers have stopped.)
    /// </summary>
    public static AkkaConfigurationBuilder WithHostLogging(this AkkaConfigurationBuilder builder)
    {
        // The logger builder writes akka.loglevel too: keep the level the configuration so far says.
        var level = Akka.Event.Logging.LogLevelFor(builder.Configuration.Value.GetString("akka.loglevel"));
        return builder
            .ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = level;
                loggers.ClearLoggers();
                loggers.AddLogger<AkkaSourceLogger>();
            })
            .AddHocon(ConfigurationFactory.ParseString("akka.stdout-loglevel = ERROR\nakka.remote.log-remote-lifecycle-events = off"), HoconAddMode.Prepend);
    }
}
