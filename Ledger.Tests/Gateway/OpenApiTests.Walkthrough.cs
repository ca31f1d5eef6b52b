using System.Collections;
using System.Globalization;
using System.Numerics;
using Ledger.Contracts.Channels;
using Ledger.Tests.Generated;
using AccountId = Ledger.Contracts.Primitives.AccountId;
using ChannelId = Ledger.Contracts.Primitives.ChannelId;

namespace Ledger.Tests.Gateway;

/// <summary>
/// README's "A walk-through with curl", step by step, through the client generated from the OpenAPI document: every
/// request is a typed body, every answer a typed object in which no field is left unknown to the document, every refusal
/// an <c>ApiException&lt;Problem&gt;</c> with api.md's code. Amounts are the README's; what they lead to is worked out
/// here (Uniswap v2's formula, the square root of a first deposit, a put's payout). The README's waits (a minute to
/// expiry, a 10 s vote, 5 s windows) are shortened; its ids are kept (the host is this class's own).
/// </summary>
public partial class OpenApiTests
{
    private static readonly byte[] AliceSeed = [.. Enumerable.Repeat((byte)0xa1, 32)];
    private static readonly byte[] BobSeed = [.. Enumerable.Repeat((byte)0xb2, 32)];

    [Fact]
    public async Task Readme_walkthrough_runs_through_the_generated_client()
    {
        var api = new LedgerApiClient(fixture.Host.Http);

        // Assets, accounts, a mint, a transfer sent twice, a reservation posted in part.
        Assert.Equal("0", Known(await api.CreateAssetAsync(new CreateAssetBody { Id = "USD", Decimals = 2, Issuer = "treasury" })).Supply);
        Known(await api.OpenAccountAsync(new OpenAccountBody { Id = "alice", Owner = "alice" }));
        Known(await api.OpenAccountAsync(new OpenAccountBody { Id = "bob", Owner = "bob" }));
        Assert.Equal("committed", Known(await api.CreateTransferAsync(Transfer("mint-1", "treasury", "alice", "USD", "10000"))).Status);
        var t1 = Known(await api.CreateTransferAsync(Transfer("t1", "alice", "bob", "USD", "2500")));
        var t1Again = Known(await api.CreateTransferAsync(Transfer("t1", "alice", "bob", "USD", "2500")));
        Assert.Equal((t1.Status, t1.CreatedAt, t1.CompletedAt), (t1Again.Status, t1Again.CreatedAt, t1Again.CompletedAt));
        Assert.Equal((409, "id_conflict"), await Refusal(() => api.CreateTransferAsync(Transfer("t1", "alice", "bob", "USD", "2501"))));
        var p1 = Transfer("p1", "alice", "bob", "USD", "1000");
        (p1.Pending, p1.TimeoutMs) = (true, 60_000);
        Assert.Equal("pending", Known(await api.CreateTransferAsync(p1)).Status);
        Assert.Equal("committed", Known(await api.PostPendingTransferAsync("p1", new PostPendingBody { From = "alice", Amount = "600" })).Status);
        var aliceUsd = Known(await api.GetAccountAsync("alice")).Balances["USD"];
        Assert.Equal(((10_000 - 2_500 - 600).ToString(CultureInfo.InvariantCulture), "0", "0"), (aliceUsd.Posted, aliceUsd.PendingOut, aliceUsd.PendingIn));
        Assert.Equal("3100", await Posted(api, "bob", "USD"));
        // bob's history, newest first: the posted reservation, then the transfer (each as alice, the payer, made it).
        var bobHistory = Known(await api.ListTransactionsAsync("bob", 10, null));
        Assert.Equal([("p1", "alice", "600"), ("t1", "alice", "2500")], bobHistory.Items.Select(t => (t.Id, t.Account, t.Legs.Single().Amount)));
        Assert.Null(bobHistory.Next);
        // A minute ago alice had no account yet: no balances.
        Assert.Empty(Known(await api.GetBalancesAtAsync("alice", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000)).Balances);
        Assert.Equal("10000", Known(await api.GetAssetAsync("USD")).Supply);

        // A pool of USD and EUR funded by alice, a quote, a swap; a second pool and a two-hop route.
        await Mint(api, "EUR", "ecb", "mint-eur", "alice", "5000");
        Assert.Equal("lp.usd-eur", Known(await api.CreatePoolAsync(new CreatePoolBody { Id = "usd-eur", AssetA = "USD", AssetB = "EUR", FeeBps = 30 })).LpAsset);
        var d1 = Known(await api.DepositToPoolAsync("usd-eur", new DepositBody { Id = "d1", Account = "alice", AmountADesired = "2000", AmountBDesired = "1800" }));
        Assert.Equal(("2000", "1800", Sqrt(2000 * 1800) - 1000), (d1.AmountA, d1.AmountB, BigInteger.Parse(d1.Shares, CultureInfo.InvariantCulture)));
        var s1Out = Out(100, 2000, 1800);
        Assert.Equal(s1Out.ToString(CultureInfo.InvariantCulture), Known(await api.QuoteAsync("usd-eur", "USD", "100")).AmountOut);
        var s1 = Known(await api.SwapAsync(new SwapBody { Id = "s1", Account = "alice", Route = ["usd-eur"], AssetIn = "USD", AmountIn = "100", MinAmountOut = "80" }));
        Assert.Equal(Strings(100, s1Out), s1.Amounts);
        await Mint(api, "GBP", "boe", "mint-gbp", "alice", "5000");
        Known(await api.CreatePoolAsync(new CreatePoolBody { Id = "eur-gbp", AssetA = "EUR", AssetB = "GBP", FeeBps = 30 }));
        var d2 = Known(await api.DepositToPoolAsync("eur-gbp", new DepositBody { Id = "d2", Account = "alice", AmountADesired = "3000", AmountBDesired = "3000" }));
        Assert.Equal(Sqrt(3000 * 3000) - 1000, BigInteger.Parse(d2.Shares, CultureInfo.InvariantCulture));
        var hop1 = Out(100, 2000 + 100, 1800 - s1Out);
        var hop2 = Out(hop1, 3000, 3000);
        var r1 = Known(await api.SwapAsync(new SwapBody { Id = "r1", Account = "alice", Route = ["usd-eur", "eur-gbp"], AssetIn = "USD", AmountIn = "100", MinAmountOut = "1" }));
        Assert.Equal(Strings(100, hop1, hop2), r1.Amounts);
        Assert.Equal(hop2.ToString(CultureInfo.InvariantCulture), r1.AmountOut);

        // An atomic batch whose second transfer overdraws: neither runs, the second names why, the first is linked.
        var batch = Known(await api.SubmitBatchAsync(new BatchBody
        {
            Atomic = true,
            Operations = [Operation("b1", "alice", "bob", "USD", "1"), Operation("b2", "bob", "alice", "USD", "999999")],
        }));
        Assert.Equal([("b1", "rejected", "linked_operation_failed"), ("b2", "rejected", "insufficient_funds")], batch.Results.Select(r => (r.Id, r.Status, r.Code)));
        Assert.Equal("3100", await Posted(api, "bob", "USD"));

        // A lending market: bob borrows 400 USD against 500 EUR at 80 % LLTV.
        Known(await api.SetPriceAsync("USD", new PriceBody { Price = "1" }));
        Assert.Equal(1.08m, decimal.Parse(Known(await api.SetPriceAsync("EUR", new PriceBody { Price = "1.08" })).Price, CultureInfo.InvariantCulture));
        Known(await api.CreateMarketAsync(new CreateMarketBody
        {
            Id = "usd-by-eur",
            LoanAsset = "USD",
            CollateralAsset = "EUR",
            LltvBps = 8000,
            Rate = new RateModel { BaseBps = 0, Slope1Bps = 400, Slope2Bps = 30000, KinkBps = 8000 },
            ReserveFactorBps = 1000,
            LiquidationBonusBps = 500,
        }));
        Assert.Equal("committed", Known(await api.SupplyToMarketAsync("usd-by-eur", Call("m1", "alice", "1000"))).Status);
        await api.CreateTransferAsync(Transfer("eur-bob", "ecb", "bob", "EUR", "500"));
        Assert.Equal("committed", Known(await api.SupplyCollateralAsync("usd-by-eur", Call("m2", "bob", "500"))).Status);
        Assert.Equal("committed", Known(await api.BorrowAsync("usd-by-eur", Call("m3", "bob", "400"))).Status);
        var position = Known(await api.GetMarketPositionAsync("usd-by-eur", "bob"));
        Assert.Equal("500", position.Collateral);
        // 500 · 1.08 · 0.8 / 400 = 1.08 at the borrow; interest since then only lowers it.
        Assert.InRange(decimal.Parse(position.HealthFactor, CultureInfo.InvariantCulture), 1.07m, 500 * 1.08m * 0.8m / 400);
        Assert.True(Known(await api.GetMarketAsync("usd-by-eur")).UtilizationBps >= 400 * 10_000 / 1000);

        // A farm paying 36,000 EUR units over an hour to USD stakers: 10 units a second to bob's whole stake.
        Known(await api.CreateFarmAsync(new CreateFarmBody { Id = "usd-farm", StakeAsset = "USD", RewardAsset = "EUR", DurationS = 3600 }));
        Assert.Equal("committed", Known(await api.StakeAsync("usd-farm", Call("f1", "bob", "100"))).Status);
        var fundedFrom = DateTimeOffset.UtcNow;
        Assert.Equal("committed", Known(await api.FundFarmAsync("usd-farm", Call("f2", "ecb", "36000"))).Status);
        var fundedBy = DateTimeOffset.UtcNow;
        Assert.Equal("100", Known(await api.GetFarmPositionAsync("usd-farm", "bob")).Staked);

        // A put on EUR at 1.10 USD: bob writes 10.00 EUR of puts (11.00 USD locked) and pools half of them against USD; alice
        // buys some there. It expires in 6 s (the README's minute) while the walk-through goes on, and is settled at the end.
        var expiry = DateTimeOffset.UtcNow.AddSeconds(6);
        const long DisputeMs = 200;
        Assert.Equal("opt.eur-put", Known(await api.CreateOptionSeriesAsync(new CreateOptionBody
        {
            Id = "eur-put",
            Underlying = "EUR",
            StrikeAsset = "USD",
            Kind = "put",
            Strike = "1.10",
            Expiry = expiry.ToUnixTimeMilliseconds(),
            DisputeMs = DisputeMs,
        })).Token);
        Assert.Equal("committed", Known(await api.MintOptionsAsync("eur-put", Call("w1", "bob", "1000"))).Status);
        var written = Known(await api.GetOptionPositionAsync("eur-put", "bob"));
        Assert.Equal(("1000", "1100"), (written.Short, written.Collateral));
        Known(await api.CreatePoolAsync(new CreatePoolBody { Id = "put-usd", AssetA = "opt.eur-put", AssetB = "USD", FeeBps = 30 }));
        // 500 puts and 500 USD would mint sqrt(500 · 500) = 500 shares, not above the 1,000 locked forever: refused.
        Assert.True(Sqrt(500 * 500) <= 1000);
        Assert.Equal((422, "insufficient_liquidity"), await Refusal(() =>
            api.DepositToPoolAsync("put-usd", new DepositBody { Id = "d3-small", Account = "bob", AmountADesired = "500", AmountBDesired = "500" })));
        var d3 = Known(await api.DepositToPoolAsync("put-usd", new DepositBody { Id = "d3", Account = "bob", AmountADesired = "500", AmountBDesired = "2100" }));
        Assert.Equal(Sqrt(500 * 2100) - 1000, BigInteger.Parse(d3.Shares, CultureInfo.InvariantCulture));
        var bought = Out(50, 2100, 500);
        Assert.Equal(bought.ToString(CultureInfo.InvariantCulture),
            Known(await api.SwapAsync(new SwapBody { Id = "buy-put", Account = "alice", Route = ["put-usd"], AssetIn = "USD", AmountIn = "50", MinAmountOut = "1" })).AmountOut);

        // A perpetual future on EUR margined in USD: bob goes long 10.00 EUR, EUR falls to 0.95 and alice liquidates him.
        Known(await api.CreatePerpAsync(new CreatePerpBody
        {
            Id = "eur-perp",
            Underlying = "EUR",
            MarginAsset = "USD",
            SkewScale = "100000",
            MaxFundingVelocity = "0.1",
            InitialMarginRatio = "0.1",
            MaintenanceMarginRatio = "0.05",
            LiquidationRewardRatio = "0.01",
            TakerFeeBps = 5,
        }));
        Assert.Equal("committed", Known(await api.DepositToVaultAsync("eur-perp", Call("pv1", "alice", "1000"))).Status);
        Assert.Equal("committed", Known(await api.DepositMarginAsync("eur-perp", Call("pm1", "bob", "150"))).Status);
        Assert.Equal("committed", Known(await api.PlaceOrderAsync("eur-perp", new OrderBody { Id = "po1", Account = "bob", SizeDelta = "1000" })).Status);
        var perp = Known(await api.GetPerpPositionAsync("eur-perp", "bob"));
        Assert.Equal(("1000", 1.08m), (perp.Size, decimal.Parse(perp.EntryPrice, CultureInfo.InvariantCulture)));
        Known(await api.SetPriceAsync("EUR", new PriceBody { Price = "0.95" }));
        var liquidation = Known(await api.LiquidateTraderAsync("eur-perp", new LiquidateTraderBody { Id = "pl1", Liquidator = "alice", Account = "bob" }));
        Assert.Equal("committed", liquidation.Status);
        // The reward: 1000 · 0.95 · 0.01 = 9.5 USD units, rounded down, below the equity left (150 − 130 lost − the fee).
        Assert.Contains(liquidation.Legs, l => l.To == "alice" && l.Asset == "USD" && l.Amount == "9");
        Assert.Equal("0", Known(await api.GetPerpPositionAsync("eur-perp", "bob")).Size);

        // A DAO: VOTE holders govern the treasury gov.dao; alice proposes a grant to bob, votes for it with her 100 VOTE, and
        // bob queues and executes it. Voting delay, period and timelock are the README's 2 s, 10 s and 2 s shortened.
        Known(await api.CreateAssetAsync(new CreateAssetBody { Id = "VOTE", Decimals = 0, Issuer = "dao-mint" }));
        var votes = Known(await api.SubmitBatchAsync(new BatchBody
        {
            Operations = [Operation("v-alice", "dao-mint", "alice", "VOTE", "100"), Operation("v-bob", "dao-mint", "bob", "VOTE", "50")],
        }));
        Assert.All(votes.Results, r => Assert.Equal("committed", r.Status));
        var governor = Known(await api.CreateGovernorAsync(new CreateGovernorBody
        {
            Id = "dao",
            Token = "VOTE",
            VotingDelayMs = 300,
            VotingPeriodMs = 2000,
            ProposalThreshold = "1",
            QuorumBps = 400,
            TimelockMs = 300,
            GraceMs = 600_000,
        }));
        Assert.Equal("gov.dao", governor.Treasury);
        await api.CreateTransferAsync(Transfer("fund-dao", "treasury", "gov.dao", "USD", "500"));
        var bobBeforeGrant = BigInteger.Parse(await Posted(api, "bob", "USD"), CultureInfo.InvariantCulture);
        var proposal = Known(await api.ProposeAsync("dao", new ProposeBody
        {
            Id = "grant-1",
            Proposer = "alice",
            Description = "a grant to bob",
            Operations = [Operation("g1", "gov.dao", "bob", "USD", "300")],
        }));
        Assert.Equal("pending", proposal.State);
        await Until(proposal.Snapshot);
        Assert.Equal("100", Known(await api.VoteAsync("dao", "grant-1", new VoteBody { Id = "v1", Voter = "alice", Support = "for" })).For);
        await Until(proposal.Deadline);
        var queued = Known(await api.QueueProposalAsync("dao", "grant-1", new AccountCallBody { Id = "q1", Account = "bob" }));
        Assert.Equal("queued", queued.State);
        await Until(queued.Eta);
        var executed = Known(await api.ExecuteProposalAsync("dao", "grant-1", new AccountCallBody { Id = "x1", Account = "bob" }));
        Assert.Equal([("g1", "committed")], executed.Results.Select(r => (r.Id, r.Status)));
        var final = Known(await api.GetProposalAsync("dao", "grant-1"));
        // Quorum: 4 % of the 150 VOTE in circulation at the snapshot, rounded down.
        Assert.Equal(("executed", "100", "0", "0", (150 * 400 / 10_000).ToString(CultureInfo.InvariantCulture)),
            (final.State, final.For, final.Against, final.Abstain, final.Quorum));
        Assert.Equal(bobBeforeGrant + 300, BigInteger.Parse(await Posted(api, "bob", "USD"), CultureInfo.InvariantCulture));

        // Payment channels: ch1 closed together on the balances both sign; ch2 closed by alice alone with bob's newest proof,
        // answered by bob with hers within the window (the README's 5 s, shortened), then settled.
        using (var a = new ChannelParty(new ChannelId("ch1"), new AccountId("alice"), new AccountId("bob"), AliceSeed))
        using (var b = new ChannelParty(new ChannelId("ch1"), new AccountId("bob"), new AccountId("alice"), BobSeed))
        {
            Assert.Equal("open", Known(await api.OpenChannelAsync(Open("ch1", a, b, 5000))).State);
            Assert.Equal("committed", Known(await api.DepositToChannelAsync("ch1", Call("cd1", "alice", "200"))).Status);
            Assert.Equal("committed", Known(await api.DepositToChannelAsync("ch1", Call("cd1", "bob", "100"))).Status);
            // Off the ledger alice paid bob 60 and bob paid alice 15: 200 − 60 + 15 = 155 and 100 + 60 − 15 = 145.
            var closed = Known(await api.CloseChannelAsync("ch1", new CloseChannelBody
            {
                Id = "cc1",
                Account = "alice",
                Cooperative = true,
                BalanceA = "155",
                BalanceB = "145",
                SignatureA = a.SignClose(155, 145),
                SignatureB = b.SignClose(155, 145),
            }));
            Assert.Equal(("settled", "155", "145"), (closed.State, closed.SettledA, closed.SettledB));
        }
        using (var a = new ChannelParty(new ChannelId("ch2"), new AccountId("alice"), new AccountId("bob"), AliceSeed))
        using (var b = new ChannelParty(new ChannelId("ch2"), new AccountId("bob"), new AccountId("alice"), BobSeed))
        {
            Known(await api.OpenChannelAsync(Open("ch2", a, b, 400)));
            Known(await api.DepositToChannelAsync("ch2", Call("cd2", "alice", "200")));
            var closing = Known(await api.CloseChannelAsync("ch2", new CloseChannelBody { Id = "cc2", Account = "alice", Proof = Proof(b.Sign(1, 15)) }));
            Assert.Equal("closing", closing.State);
            Known(await api.UpdateChannelAsync("ch2", new UpdateChannelBody { Id = "cu2", Account = "bob", Proof = Proof(a.Sign(3, 60)) }));
            await Until(closing.ClosesAt);
            var settled = Known(await api.SettleChannelAsync("ch2", new AccountCallBody { Id = "cs2", Account = "bob" }));
            // alice: her 200 deposited, plus bob's 15, less her 60; bob the rest of the 200.
            Assert.Equal(("settled", (200 + 15 - 60).ToString(CultureInfo.InvariantCulture), (200 - (200 + 15 - 60)).ToString(CultureInfo.InvariantCulture)),
                (settled.State, settled.SettledA, settled.SettledB));
        }

        // The put's expiry price, final after the dispute window: alice redeems what she bought at 0.10 USD a put (rounded
        // down), bob settles his 11.00 USD less the 1.00 USD his 10.00 EUR of puts owe (rounded up).
        await Until(expiry);
        var priced = Known(await api.SetExpiryPriceAsync("eur-put", new PriceBody { Price = "1.00" }));
        Assert.Equal(1.00m, decimal.Parse(priced.ExpiryPrice, CultureInfo.InvariantCulture));
        await Until(expiry.AddMilliseconds(DisputeMs));
        Assert.Equal(bought.ToString(CultureInfo.InvariantCulture), await Posted(api, "alice", "opt.eur-put"));
        var aliceBeforeRedeem = BigInteger.Parse(await Posted(api, "alice", "USD"), CultureInfo.InvariantCulture);
        Assert.Equal("committed", Known(await api.RedeemOptionsAsync("eur-put", Call("x1", "alice", bought.ToString(CultureInfo.InvariantCulture)))).Status);
        Assert.Equal(aliceBeforeRedeem + bought * (110 - 100) / 100, BigInteger.Parse(await Posted(api, "alice", "USD"), CultureInfo.InvariantCulture));
        var bobBeforeSettle = BigInteger.Parse(await Posted(api, "bob", "USD"), CultureInfo.InvariantCulture);
        Assert.Equal("committed", Known(await api.SettleOptionsAsync("eur-put", new AccountCallBody { Id = "x2", Account = "bob" })).Status);
        Assert.Equal(bobBeforeSettle + 1100 - 1000 * (110 - 100) / 100, BigInteger.Parse(await Posted(api, "bob", "USD"), CultureInfo.InvariantCulture));
        Assert.True(Known(await api.GetOptionSeriesAsync("eur-put")).PriceFinal);

        // The farm has paid 10 EUR units a second since it was funded (to the unit, as the reward rate rounds down).
        var readFrom = DateTimeOffset.UtcNow;
        var earned = long.Parse(Known(await api.GetFarmPositionAsync("usd-farm", "bob")).Earned, CultureInfo.InvariantCulture);
        var readBy = DateTimeOffset.UtcNow;
        Assert.InRange(earned, (long)((readFrom - fundedBy).TotalSeconds * 10) - 1, (long)Math.Ceiling((readBy - fundedFrom).TotalSeconds * 10));

        // The change feed, the audit (every asset sums to zero, nothing in flight), and bad input refused with its code.
        var events = Known(await api.ListEventsAsync(null, 5));
        Assert.Equal(5, events.Items.Count);
        Assert.False(string.IsNullOrEmpty(events.Next));
        var audit = Known(await api.AuditSupplyAsync());
        Assert.Contains("USD", audit.Assets.Keys);
        Assert.All(audit.Assets, asset => Assert.Equal((asset.Key, "0", "0"), (asset.Key, asset.Value.Sum, asset.Value.InFlight)));
        // The README sends the number 12, which a typed client cannot; a fraction is refused alike.
        Assert.Equal((400, "invalid_amount"), await Refusal(() => api.CreateTransferAsync(Transfer("t2", "alice", "bob", "USD", "12.5"))));
    }

    private static TransferBody Transfer(string id, string from, string to, string asset, string amount) =>
        new() { Id = id, From = from, To = to, Asset = asset, Amount = amount };

    private static BatchOperationBody Operation(string id, string from, string to, string asset, string amount) =>
        new() { Type = "transfer", Id = id, From = from, To = to, Asset = asset, Amount = amount };

    private static VenueCallBody Call(string id, string account, string amount) => new() { Id = id, Account = account, Amount = amount };

    private static OpenChannelBody Open(string id, ChannelParty a, ChannelParty b, long challengeMs) =>
        new() { Id = id, Asset = "USD", A = "alice", B = "bob", AKey = a.PublicKeyHex, BKey = b.PublicKeyHex, ChallengeMs = challengeMs };

    private static Generated.BalanceProof Proof(Ledger.Contracts.Channels.BalanceProof proof) =>
        new() { Signer = proof.Signer.Value, Nonce = proof.Nonce, Transferred = proof.Transferred.ToString(), Signature = proof.Signature };

    private static async Task Mint(LedgerApiClient api, string asset, string issuer, string id, string to, string amount)
    {
        Known(await api.CreateAssetAsync(new CreateAssetBody { Id = asset, Decimals = 2, Issuer = issuer }));
        Assert.Equal("committed", Known(await api.CreateTransferAsync(Transfer(id, issuer, to, asset, amount))).Status);
    }

    private static async Task<string> Posted(LedgerApiClient api, string account, string asset) =>
        Known(await api.GetAccountAsync(account)).Balances.TryGetValue(asset, out var balance) ? balance.Posted : "0";

    /// <summary>Uniswap v2's output for one hop with the pools' 30 bps fee: <c>in·9970·R_out / (R_in·10000 + in·9970)</c>.</summary>
    private static BigInteger Out(BigInteger amountIn, BigInteger reserveIn, BigInteger reserveOut) =>
        amountIn * 9970 * reserveOut / (reserveIn * 10_000 + amountIn * 9970);

    /// <summary>The integer square root (rounded down) by Newton's method, as a first deposit's shares are minted.</summary>
    private static BigInteger Sqrt(BigInteger n)
    {
        if (n < 2) return n;
        var (x, y) = (n, (n + 1) / 2);
        while (y < x) (x, y) = (y, (y + n / y) / 2);
        return x;
    }

    private static string[] Strings(params BigInteger[] amounts) => [.. amounts.Select(a => a.ToString(CultureInfo.InvariantCulture))];

    /// <summary>Waits until a moment the ledger named (RFC 3339) has passed, with a little to spare for the clocks' reading.</summary>
    private static Task Until(string instant) => Until(DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture));

    private static async Task Until(DateTimeOffset instant)
    {
        var wait = instant.AddMilliseconds(50) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
    }

    /// <summary>The status and api.md code of a refusal, as the generated client raises it.</summary>
    private static async Task<(int Status, string Code)> Refusal(Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<ApiException<Problem>>(call);
        return (refused.StatusCode, refused.Result.Code);
    }

    /// <summary>
    /// The answer, after checking that it held no field the document does not name: the generated classes gather unknown
    /// fields in <c>AdditionalProperties</c>, which must stay empty all the way down.
    /// </summary>
    private static T Known<T>(T answer)
    {
        Unknown(answer, typeof(T).Name);
        return answer;
    }

    private static void Unknown(object? value, string where)
    {
        if (value is null || value is string || value.GetType().IsPrimitive) return;
        if (value is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary) Unknown(entry.Value, $"{where}[{entry.Key}]");
            return;
        }
        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items) Unknown(item, $"{where}[{i++}]");
            return;
        }
        if (value.GetType().Namespace != typeof(LedgerApiClient).Namespace) return;
        foreach (var property in value.GetType().GetProperties())
        {
            var inner = property.GetValue(value);
            if (property.Name != "AdditionalProperties") Unknown(inner, $"{where}.{property.Name}");
            else if (inner is IDictionary { Count: > 0 } extra) Assert.Fail($"{where} has fields the document does not name: {string.Join(", ", extra.Keys.Cast<object>())}");
        }
    }
}
