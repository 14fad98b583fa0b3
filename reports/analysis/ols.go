package analysis

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// olsResult is a least-squares fit with one intercept per life.
type olsResult struct {
	coef []Interval
	vif  []float64
	cond float64
	r2   float64
	rho  float64 // lag-1 autocorrelation of the residuals
	base float64 // median intercept over lives
}

// olsFit regresses ys (one series per life) on k columns per life, given
// by col(life, j), with one intercept per life: each life is centred on
// its own means, which leaves the slopes of the full model (Frisch-Waugh)
// with n - lives - k residual degrees of freedom. It fails, saying why,
// when the columns are collinear or there are too few samples.
func olsFit(lives []leakLife, ys [][]float64, k int, col func(l leakLife, j int) []float64) (olsResult, error) {
	var res olsResult
	n := 0
	for _, y := range ys {
		n += len(y)
	}
	df := n - len(lives) - k
	if df < 1 {
		return res, fmt.Errorf("too few memory samples (%d over %d worker lives) for %d slopes", n, len(lives), k)
	}
	x, y, means := centred(lives, ys, n, k, col)
	// Scale each column to unit length, so that the condition number
	// measures collinearity, not units.
	scale, err := unitColumns(x)
	if err != nil {
		return res, err
	}
	res.cond, err = condition(x)
	if err != nil {
		return res, err
	}
	var beta mat.VecDense
	if err := beta.SolveVec(x, y); err != nil {
		return res, fmt.Errorf("least squares: %w", err)
	}
	var fitted, resid mat.VecDense
	fitted.MulVec(x, &beta)
	resid.SubVec(y, &fitted)
	ssr := mat.Dot(&resid, &resid)
	sst := mat.Dot(y, y)
	res.r2 = 1
	if sst > 0 {
		res.r2 = 1 - ssr/sst
	}
	var xtx, inv mat.Dense
	xtx.Mul(x.T(), x)
	if err := inv.Inverse(&xtx); err != nil {
		return res, fmt.Errorf("the classes' counts are collinear: %w", err)
	}
	res.rho = lag1(resid.RawVector().Data, ys)
	sigma2 := ssr / float64(df) * ar1Inflation(res.rho)
	b := res.addCoefs(&beta, &inv, scale, sigma2, df)
	res.base = medianIntercept(means, b)
	return res, nil
}

// condition returns the condition number of x, failing when the columns
// are collinear (it is over LeakMaxCondition).
func condition(x *mat.Dense) (float64, error) {
	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThin) {
		return 0, fmt.Errorf("the least-squares fit did not converge")
	}
	cond := svd.Cond()
	if math.IsInf(cond, 1) || cond > LeakMaxCondition {
		return cond, fmt.Errorf("the classes' counts are collinear (condition number %.3g): every worker served them in the same proportions; vary the mix over time (docs/reports.md)", cond)
	}
	return cond, nil
}

// addCoefs appends to res the slopes beta, unscaled, with their
// LeakConfidence intervals from the residual variance sigma2 on df degrees
// of freedom, and their variance inflation factors from inv, the inverse
// of XᵀX. It returns the unscaled slopes.
func (res *olsResult) addCoefs(beta *mat.VecDense, inv *mat.Dense, scale []float64, sigma2 float64, df int) []float64 {
	k := len(scale)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-LeakConfidence)/2)
	b := make([]float64, k)
	for j := 0; j < k; j++ {
		b[j] = beta.AtVec(j) / scale[j]
		se := math.Sqrt(sigma2*inv.At(j, j)) / scale[j]
		res.coef = append(res.coef, Interval{Value: b[j], Low: b[j] - t*se, High: b[j] + t*se})
		res.vif = append(res.vif, inv.At(j, j))
	}
	return b
}

// medianIntercept is the median over lives of each life's intercept: its
// mean (means[i][k], k = len(b)) less the slopes b times its columns'
// means.
func medianIntercept(means [][]float64, b []float64) float64 {
	k := len(b)
	intercepts := make([]float64, len(means))
	for i := range means {
		a := means[i][k]
		for j := 0; j < k; j++ {
			a -= b[j] * means[i][j]
		}
		intercepts[i] = a
	}
	sort.Float64s(intercepts)
	return median(intercepts)
}

// centred is the design of olsFit: the k columns of each life (col) and
// its memory ys, each centred on the life's own means, stacked over the
// n samples; means holds, per life, the k column means then the y mean.
func centred(lives []leakLife, ys [][]float64, n, k int, col func(l leakLife, j int) []float64) (x *mat.Dense, y *mat.VecDense, means [][]float64) {
	x = mat.NewDense(n, k, nil)
	y = mat.NewVecDense(n, nil)
	means = make([][]float64, len(lives))
	row := 0
	for i, l := range lives {
		m := len(ys[i])
		means[i] = make([]float64, k+1)
		cols := make([][]float64, k)
		for j := range cols {
			cols[j] = col(l, j)
			means[i][j] = mean(cols[j])
		}
		means[i][k] = mean(ys[i])
		for r := 0; r < m; r++ {
			for j := range cols {
				x.Set(row+r, j, cols[j][r]-means[i][j])
			}
			y.SetVec(row+r, ys[i][r]-means[i][k])
		}
		row += m
	}
	return x, y, means
}

// unitColumns scales each column of x to unit length in place and
// returns the lengths it divided by.
func unitColumns(x *mat.Dense) ([]float64, error) {
	n, k := x.Dims()
	scale := make([]float64, k)
	for j := 0; j < k; j++ {
		scale[j] = mat.Norm(x.ColView(j), 2)
		if scale[j] == 0 {
			return nil, fmt.Errorf("the requests served do not vary within any worker life")
		}
		for r := 0; r < n; r++ {
			x.Set(r, j, x.At(r, j)/scale[j])
		}
	}
	return scale, nil
}

// ar1Inflation returns (1+ρ)/(1−ρ) for the lag-1 autocorrelation ρ of
// the residuals (1 when ρ ≤ 0): memory noise lasts from one sample to
// the next, so the samples carry less information than their number
// says, and the ordinary standard errors would be too narrow.
func ar1Inflation(rho float64) float64 {
	if rho <= 0 {
		return 1
	}
	if rho >= 1 {
		return maxAR1Inflation
	}
	return math.Min((1+rho)/(1-rho), maxAR1Inflation)
}

// lag1 returns the lag-1 autocorrelation of the residuals within lives.
func lag1(resid []float64, ys [][]float64) float64 {
	var num, den float64
	row := 0
	for _, y := range ys {
		for r := 0; r < len(y); r++ {
			e := resid[row+r]
			den += e * e
			if r > 0 {
				num += e * resid[row+r-1]
			}
		}
		row += len(y)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// median returns the median of sorted xs.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
