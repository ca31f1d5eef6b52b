using Ledger.Contracts.Protocol;

namespace Ledger.Tests.Contracts;

/// <summary>
/// The pairing of requests with replies that the gateway's typed asks rely on: a request names one reply, and addresses
/// one of the entity kinds the gateway has a region for.
/// </summary>
public class ProtocolTests
{
    private static readonly Type[] GatewayRegions =
    [
        typeof(IAccountMessage), typeof(IAssetMessage), typeof(IPoolMessage), typeof(ISagaMessage),
        typeof(IMarketMessage), typeof(IFarmMessage), typeof(IOptionMessage), typeof(IPerpMessage), typeof(IGovernorMessage), typeof(IChannelMessage), typeof(IOracleMessage), typeof(IKeyMessage),
    ];

    private static Type[] Asks => [.. typeof(ILedgerMessage).Assembly.GetExportedTypes().Where(t => !t.IsInterface && Pairings(t).Any())];

    private static IEnumerable<Type> Pairings(Type request) => request.GetInterfaces()
        .Where(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IAsk<>) || i.GetGenericTypeDefinition() == typeof(IRejectableAsk<>)));

    [Fact]
    public void Every_asked_request_names_exactly_one_reply()
    {
        Assert.NotEmpty(Asks);
        Assert.All(Asks, request => Assert.Single(Pairings(request)));
    }

    [Fact]
    public void Every_asked_request_addresses_exactly_one_entity_kind_the_gateway_routes()
    {
        Assert.All(Asks, request => Assert.Single(GatewayRegions, kind => kind.IsAssignableFrom(request)));
    }
}
